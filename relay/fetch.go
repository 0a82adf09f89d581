package relay

import (
	"context"
	"slices"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// ServeFetch answers a FETCH (standalone or joining) from the cache of the
// track's live upstream subscription, making the Relay a moqt.FetchHandler.
// A track the relay is not subscribed to is refused with
// TRACK_DOES_NOT_EXIST; a range after the largest object with
// INVALID_RANGE; a range the cache no longer holds with NO_OBJECTS.
func (r *Relay) ServeFetch(fw *moqt.FetchWriter) {
	if !r.grantsOf(fw.Session()).CanSubscribe(fw.BroadcastPath) {
		r.stats.refused.Add(1)
		fw.CloseWithError(moqt.SubscribeErrorUnauthorized)
		return
	}
	r.mu.Lock()
	t := r.tracks[trackKey{path: fw.BroadcastPath, name: fw.TrackName}]
	r.mu.Unlock()
	if t == nil {
		fw.CloseWithError(moqt.SubscribeErrorTrackDoesNotExist)
		return
	}
	cfg := fw.FetchConfig()
	objs, largest, ok := t.cachedRange(cfg.Start, cfg.End, cfg.GroupOrder)
	if !ok || largest.Less(cfg.Start) {
		fw.CloseWithError(moqt.FetchErrorInvalidRange)
		return
	}
	if len(objs) == 0 {
		fw.CloseWithError(moqt.FetchErrorNoObjects)
		return
	}
	info := moqt.FetchInfo{GroupOrder: cfg.GroupOrder, End: cfg.End}
	// A range beyond the largest object ends at it (draft-14 §9.17).
	if cfg.End.Group > largest.Group || cfg.End.Group == largest.Group && (cfg.End.Object == 0 || cfg.End.Object > largest.Object+1) {
		info.End = moqt.Location{Group: largest.Group, Object: largest.Object + 1}
	}
	if err := fw.WriteInfo(info); err != nil {
		return
	}
	var n, bytes int64
	for i := range objs {
		if err := fw.WriteObject(&objs[i]); err != nil {
			return
		}
		n++
		bytes += int64(objs[i].Frame.Len())
	}
	r.stats.objectsOut.Add(n)
	r.stats.bytesOut.Add(bytes)
	fw.Close()
}

// cachedRange returns the cached objects from start through end (end as
// in moqt.FetchConfig), by group in order and by object ID within a group,
// and the track's largest location. The Frames are shared.
func (t *track) cachedRange(start, end moqt.Location, order moqt.GroupOrder) ([]moqt.TrackObject, moqt.Location, bool) {
	t.mu.Lock()
	largest := moqt.Location{Group: t.info.LatestGroup, Object: t.info.LatestObject}
	ok := t.info.ContentExists
	groups := make([]*group, 0, len(t.groups))
	for _, g := range t.groups {
		if !g.evicted && g.seq >= start.Group && g.seq <= end.Group {
			groups = append(groups, g)
		}
	}
	var subs [][]*subgroup
	for _, g := range groups {
		subs = append(subs, slices.Clone(g.subgroups))
	}
	t.mu.Unlock()
	if order == moqt.GroupOrderDescending {
		slices.Reverse(groups)
		slices.Reverse(subs)
	}
	var out []moqt.TrackObject
	for i, g := range groups {
		first := len(out)
		for _, sg := range subs[i] {
			sg.mu.Lock()
			for _, e := range sg.objs {
				id := e.obj.ID
				if g.seq == start.Group && id < start.Object || g.seq == end.Group && end.Object != 0 && id >= end.Object {
					continue
				}
				out = append(out, moqt.TrackObject{Group: g.seq, Subgroup: sg.id, PublisherPriority: sg.priority, Object: *e.obj})
			}
			sg.mu.Unlock()
		}
		slices.SortStableFunc(out[first:], func(a, b moqt.TrackObject) int {
			switch {
			case a.ID < b.ID:
				return -1
			case a.ID > b.ID:
				return 1
			}
			return 0
		})
	}
	return out, largest, ok
}

// TrackStatus answers TRACK_STATUS, making the Relay a
// moqt.TrackStatusHandler: from the relay's own subscription if it carries
// the track, else by asking the track's publisher.
func (r *Relay) TrackStatus(path moqt.BroadcastPath, name moqt.TrackName) (moqt.Info, error) {
	r.mu.Lock()
	t := r.tracks[trackKey{path: path, name: name}]
	var sess *moqt.Session
	if o := r.routeLocked(path); o != nil {
		sess = o.pubs[len(o.pubs)-1].sess
	}
	r.mu.Unlock()
	if t != nil {
		t.mu.Lock()
		info := t.info
		t.mu.Unlock()
		info.GroupOrder = moqt.GroupOrderAscending
		return info, nil
	}
	if sess == nil {
		return moqt.Info{}, &moqt.SubscribeError{Code: moqt.SubscribeErrorTrackDoesNotExist, Reason: "no publisher for this path"}
	}
	ctx, cancel := context.WithTimeout(r.ctx, trackStatusTimeout)
	defer cancel()
	return sess.TrackStatus(ctx, path, name)
}

// trackStatusTimeout bounds a TRACK_STATUS forwarded to a publisher.
const trackStatusTimeout = 5 * time.Second
