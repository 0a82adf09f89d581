package relay

import (
	"context"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/moqgo/moqgo/moqt"
)

// ServeFetch answers a FETCH (standalone or joining), making the Relay a
// moqt.FetchHandler. A range the cache of the track's upstream
// subscription holds from its start is answered from the cache: a range
// after the largest object with INVALID_RANGE, one without objects with
// NO_OBJECTS. Anything else (a track the relay does not carry, a range
// older than what it has cached) is fetched from the track's publisher and
// forwarded object by object, the publisher's refusal included; without a
// publisher the FETCH is refused with TRACK_DOES_NOT_EXIST.
func (r *Relay) ServeFetch(fw *moqt.FetchWriter) {
	if !r.grantsOf(fw.Session()).CanSubscribe(fw.BroadcastPath) {
		r.stats.refused.Add(1)
		fw.CloseWithError(moqt.SubscribeErrorUnauthorized)
		return
	}
	cfg := fw.FetchConfig()
	r.mu.Lock()
	t := r.tracks[trackKey{path: fw.BroadcastPath, name: fw.TrackName}]
	var pub *moqt.Session
	if o := r.routeLocked(fw.BroadcastPath); o != nil {
		pub = o.pubs[len(o.pubs)-1].sess
	}
	r.mu.Unlock()
	if t != nil {
		t.mu.Lock()
		if t.up != nil {
			pub = t.up.Session() // the track's own publisher (a pushed track has no route)
		}
		held := t.holdsLocked(cfg.Start)
		t.mu.Unlock()
		if held || pub == nil {
			r.fetchCached(fw, t, cfg)
			return
		}
	}
	if pub == nil {
		fw.CloseWithError(moqt.SubscribeErrorTrackDoesNotExist)
		return
	}
	r.fetchUpstream(fw, pub, cfg)
}

// fetchCached answers a FETCH from t's cache.
func (r *Relay) fetchCached(fw *moqt.FetchWriter, t *track, cfg *moqt.FetchConfig) {
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

// fetchUpstream forwards a FETCH to the track's publisher pub and its
// answer to fw: FETCH_OK's fields once the first object (or the end)
// arrived, then the objects as they arrive (Frames shared, not copied). A
// refusal is passed on with its code; a fetch stream the publisher resets
// before its first object refuses the fetch with INTERNAL_ERROR, after it
// resets the downstream stream with the publisher's code.
// The downstream fetcher going away cancels the upstream FETCH.
func (r *Relay) fetchUpstream(fw *moqt.FetchWriter, pub *moqt.Session, cfg *moqt.FetchConfig) {
	r.stats.upFetches.Add(1)
	fr, err := pub.Fetch(fw.Context(), fw.BroadcastPath, fw.TrackName, cfg)
	if err != nil {
		r.log.Debug("upstream fetch failed", "path", fw.BroadcastPath, "track", fw.TrackName, "err", err)
		fw.CloseWithError(refusalCode(err))
		return
	}
	defer fr.Close()
	var n, bytes int64
	defer func() {
		r.stats.objectsOut.Add(n)
		r.stats.bytesOut.Add(bytes)
	}()
	for {
		o, err := fr.ReadObject()
		if err == io.EOF {
			if n == 0 && fw.WriteInfo(fr.Info()) != nil {
				return
			}
			fw.Close()
			return
		}
		if err != nil {
			// Before the first object the fetcher has not been answered:
			// it is refused; after it, its stream is reset like ours.
			var ge *moqt.GroupError
			switch {
			case n == 0:
				fw.CloseWithError(moqt.SubscribeErrorInternal)
			case errors.As(err, &ge):
				fw.CancelWrite(ge.Code)
			default:
				fw.CancelWrite(moqt.GroupErrorInternal)
			}
			return
		}
		if n == 0 && fw.WriteInfo(fr.Info()) != nil {
			return
		}
		r.stats.objectsIn.Add(1)
		r.stats.bytesIn.Add(int64(o.Frame.Len()))
		if err := fw.WriteObject(o); err != nil {
			return
		}
		n++
		bytes += int64(o.Frame.Len())
	}
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
			for _, o := range sg.objs {
				id := o.ID
				if g.seq == start.Group && id < start.Object || g.seq == end.Group && end.Object != 0 && id >= end.Object {
					continue
				}
				out = append(out, moqt.TrackObject{Group: g.seq, Subgroup: sg.id, PublisherPriority: sg.priority, Object: *o})
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
