package wire

// Vector adapters for the draft-14 control messages other than the setup
// messages (which vectors_test.go registers). Keys are the spec's field names
// in snake_case, as the vector files use them; fields a message carries only
// in some cases (a filter's start, the largest location, a fetch kind's
// fields) are produced only when the wire had them, and read on encode only
// when the discriminating field says they belong: a key that does not belong
// is then reported as unknown by jsonFields.finish.

func init() {
	// Vectors that contradict draft-14; the spec wins.
	vectorDeviations["subscribe-ok.json/no-content"] = vectorDeviation{
		Hex:    "040006010000000000",
		Error:  KindInvalidValue.String(),
		Reason: "SUBSCRIBE_OK with Group Order 0x0 (draft-14 §9.8: values of 0x0 and those larger than 0x2 are a protocol error)",
	}
	vectorDeviations["publish-namespace-ok.json/basic"] = vectorDeviation{
		Hex:    "0700020100",
		Error:  KindInvalidValue.String(),
		Reason: "PUBLISH_NAMESPACE_OK with a Number of Parameters (draft-14 §9.24: the payload is the Request ID alone, so a byte is left over, a PROTOCOL_VIOLATION per §9)",
	}
	vectorDeviations["subscribe-namespace-ok.json/basic"] = vectorDeviation{
		Hex:    "1200020100",
		Error:  KindInvalidValue.String(),
		Reason: "SUBSCRIBE_NAMESPACE_OK with a Number of Parameters (draft-14 §9.29: the payload is the Request ID alone, so a byte is left over, a PROTOCOL_VIOLATION per §9)",
	}

	registerMessageCodec("goaway", messageCodec{
		typ: TypeGoaway,
		toJSON: func(m Message) map[string]any {
			return map[string]any{"new_session_uri": m.(*Goaway).NewSessionURI}
		},
		fromJSON: func(f *jsonFields) Message { return &Goaway{NewSessionURI: f.str("new_session_uri")} },
	})
	registerMessageCodec("max_request_id", requestIDCodec(TypeMaxRequestID,
		func(m Message) uint64 { return m.(*MaxRequestID).RequestID },
		func(id uint64) Message { return &MaxRequestID{RequestID: id} }))
	// The vectors key REQUESTS_BLOCKED's Maximum Request ID as request_id.
	registerMessageCodec("requests_blocked", requestIDCodec(TypeRequestsBlocked,
		func(m Message) uint64 { return m.(*RequestsBlocked).MaxRequestID },
		func(id uint64) Message { return &RequestsBlocked{MaxRequestID: id} }))
	registerMessageCodec("unsubscribe", requestIDCodec(TypeUnsubscribe,
		func(m Message) uint64 { return m.(*Unsubscribe).RequestID },
		func(id uint64) Message { return &Unsubscribe{RequestID: id} }))
	registerMessageCodec("fetch_cancel", requestIDCodec(TypeFetchCancel,
		func(m Message) uint64 { return m.(*FetchCancel).RequestID },
		func(id uint64) Message { return &FetchCancel{RequestID: id} }))
	registerMessageCodec("publish_namespace_ok", requestIDCodec(TypePublishNamespaceOK,
		func(m Message) uint64 { return m.(*PublishNamespaceOK).RequestID },
		func(id uint64) Message { return &PublishNamespaceOK{RequestID: id} }))
	registerMessageCodec("subscribe_namespace_ok", requestIDCodec(TypeSubscribeNamespaceOK,
		func(m Message) uint64 { return m.(*SubscribeNamespaceOK).RequestID },
		func(id uint64) Message { return &SubscribeNamespaceOK{RequestID: id} }))

	registerMessageCodec("subscribe_error", requestErrorCodec[SubscribeError](TypeSubscribeError))
	registerMessageCodec("publish_error", requestErrorCodec[PublishError](TypePublishError))
	registerMessageCodec("fetch_error", requestErrorCodec[FetchError](TypeFetchError))
	registerMessageCodec("track_status_error", requestErrorCodec[TrackStatusError](TypeTrackStatusError))
	registerMessageCodec("publish_namespace_error", requestErrorCodec[PublishNamespaceError](TypePublishNamespaceError))
	registerMessageCodec("subscribe_namespace_error", requestErrorCodec[SubscribeNamespaceError](TypeSubscribeNamespaceError))

	registerMessageCodec("subscribe", messageCodec{
		typ:      TypeSubscribe,
		toJSON:   func(m Message) map[string]any { return subscribeToJSON(m.(*Subscribe)) },
		fromJSON: func(f *jsonFields) Message { return subscribeFromJSON(f) },
	})
	registerMessageCodec("track_status", messageCodec{
		typ:      TypeTrackStatus,
		toJSON:   func(m Message) map[string]any { return subscribeToJSON((*Subscribe)(m.(*TrackStatus))) },
		fromJSON: func(f *jsonFields) Message { return (*TrackStatus)(subscribeFromJSON(f)) },
	})
	registerMessageCodec("subscribe_ok", messageCodec{
		typ:      TypeSubscribeOK,
		toJSON:   func(m Message) map[string]any { return subscribeOKToJSON(m.(*SubscribeOK)) },
		fromJSON: func(f *jsonFields) Message { return subscribeOKFromJSON(f) },
	})
	registerMessageCodec("track_status_ok", messageCodec{
		typ:      TypeTrackStatusOK,
		toJSON:   func(m Message) map[string]any { return subscribeOKToJSON((*SubscribeOK)(m.(*TrackStatusOK))) },
		fromJSON: func(f *jsonFields) Message { return (*TrackStatusOK)(subscribeOKFromJSON(f)) },
	})
	registerMessageCodec("subscribe_update", messageCodec{
		typ: TypeSubscribeUpdate,
		toJSON: func(m Message) map[string]any {
			su := m.(*SubscribeUpdate)
			return map[string]any{
				"request_id":              su.RequestID,
				"subscription_request_id": su.SubscriptionRequestID,
				"start_group":             su.Start.Group,
				"start_object":            su.Start.Object,
				"end_group":               su.EndGroup,
				"subscriber_priority":     uint64(su.SubscriberPriority),
				"forward":                 flagJSON(su.Forward),
				"parameters":              paramsToJSON(su.Params, messageParamNames),
			}
		},
		fromJSON: func(f *jsonFields) Message {
			return &SubscribeUpdate{
				RequestID:             f.u64("request_id"),
				SubscriptionRequestID: f.u64("subscription_request_id"),
				Start:                 Location{Group: f.u64("start_group"), Object: f.u64("start_object")},
				EndGroup:              f.u64("end_group"),
				SubscriberPriority:    jsonU8(f, "subscriber_priority"),
				Forward:               jsonFlag(f, "forward"),
				Params:                f.params("parameters"),
			}
		},
	})
	registerMessageCodec("publish_done", messageCodec{
		typ: TypePublishDone,
		toJSON: func(m Message) map[string]any {
			pd := m.(*PublishDone)
			return map[string]any{
				"request_id":    pd.RequestID,
				"status_code":   pd.StatusCode,
				"stream_count":  pd.StreamCount,
				"reason_phrase": pd.ReasonPhrase,
			}
		},
		fromJSON: func(f *jsonFields) Message {
			return &PublishDone{
				RequestID:    f.u64("request_id"),
				StatusCode:   f.u64("status_code"),
				StreamCount:  f.u64("stream_count"),
				ReasonPhrase: f.str("reason_phrase"),
			}
		},
	})

	registerMessageCodec("publish", messageCodec{
		typ: TypePublish,
		toJSON: func(m Message) map[string]any {
			p := m.(*Publish)
			out := map[string]any{
				"request_id":      p.RequestID,
				"track_namespace": []string(p.TrackNamespace),
				"track_name":      p.TrackName,
				"track_alias":     p.TrackAlias,
				"group_order":     uint64(p.GroupOrder),
				"forward":         flagJSON(p.Forward),
				"parameters":      paramsToJSON(p.Params, messageParamNames),
			}
			largestToJSON(out, p.ContentExists, p.Largest)
			return out
		},
		fromJSON: func(f *jsonFields) Message {
			p := &Publish{
				RequestID:      f.u64("request_id"),
				TrackNamespace: f.namespace("track_namespace"),
				TrackName:      f.str("track_name"),
				TrackAlias:     f.u64("track_alias"),
				GroupOrder:     GroupOrder(jsonU8(f, "group_order")),
				Forward:        jsonFlag(f, "forward"),
				Params:         f.params("parameters"),
			}
			p.ContentExists, p.Largest = largestFromJSON(f)
			return p
		},
	})
	registerMessageCodec("publish_ok", messageCodec{
		typ: TypePublishOK,
		toJSON: func(m Message) map[string]any {
			p := m.(*PublishOK)
			out := map[string]any{
				"request_id":          p.RequestID,
				"forward":             flagJSON(p.Forward),
				"subscriber_priority": uint64(p.SubscriberPriority),
				"group_order":         uint64(p.GroupOrder),
				"parameters":          paramsToJSON(p.Params, messageParamNames),
			}
			filterToJSON(out, p.FilterType, p.Start, p.EndGroup)
			return out
		},
		fromJSON: func(f *jsonFields) Message {
			p := &PublishOK{
				RequestID:          f.u64("request_id"),
				Forward:            jsonFlag(f, "forward"),
				SubscriberPriority: jsonU8(f, "subscriber_priority"),
				GroupOrder:         GroupOrder(jsonU8(f, "group_order")),
				Params:             f.params("parameters"),
			}
			p.FilterType, p.Start, p.EndGroup = filterFromJSON(f)
			return p
		},
	})

	registerMessageCodec("fetch", messageCodec{
		typ: TypeFetch,
		toJSON: func(m Message) map[string]any {
			ft := m.(*Fetch)
			out := map[string]any{
				"request_id":          ft.RequestID,
				"subscriber_priority": uint64(ft.SubscriberPriority),
				"group_order":         uint64(ft.GroupOrder),
				"fetch_type":          uint64(ft.FetchType),
				"parameters":          paramsToJSON(ft.Params, messageParamNames),
			}
			if ft.FetchType == FetchStandalone {
				out["track_namespace"] = []string(ft.TrackNamespace)
				out["track_name"] = ft.TrackName
				out["start_group"], out["start_object"] = ft.Start.Group, ft.Start.Object
				out["end_group"], out["end_object"] = ft.End.Group, ft.End.Object
			} else {
				out["joining_request_id"] = ft.JoiningRequestID
				out["joining_start"] = ft.JoiningStart
			}
			return out
		},
		fromJSON: func(f *jsonFields) Message {
			ft := &Fetch{
				RequestID:          f.u64("request_id"),
				SubscriberPriority: jsonU8(f, "subscriber_priority"),
				GroupOrder:         GroupOrder(jsonU8(f, "group_order")),
				FetchType:          FetchType(f.u64("fetch_type")),
				Params:             f.params("parameters"),
			}
			if ft.FetchType == FetchStandalone {
				ft.TrackNamespace = f.namespace("track_namespace")
				ft.TrackName = f.str("track_name")
				ft.Start = Location{Group: f.u64("start_group"), Object: f.u64("start_object")}
				ft.End = Location{Group: f.u64("end_group"), Object: f.u64("end_object")}
			} else {
				ft.JoiningRequestID = f.u64("joining_request_id")
				ft.JoiningStart = f.u64("joining_start")
			}
			return ft
		},
	})
	registerMessageCodec("fetch_ok", messageCodec{
		typ: TypeFetchOK,
		toJSON: func(m Message) map[string]any {
			fo := m.(*FetchOK)
			return map[string]any{
				"request_id":   fo.RequestID,
				"group_order":  uint64(fo.GroupOrder),
				"end_of_track": flagJSON(fo.EndOfTrack),
				"end_location": locationJSON(fo.End),
				"parameters":   paramsToJSON(fo.Params, messageParamNames),
			}
		},
		fromJSON: func(f *jsonFields) Message {
			return &FetchOK{
				RequestID:  f.u64("request_id"),
				GroupOrder: GroupOrder(jsonU8(f, "group_order")),
				EndOfTrack: jsonFlag(f, "end_of_track"),
				End:        f.location("end_location"),
				Params:     f.params("parameters"),
			}
		},
	})

	registerMessageCodec("publish_namespace", messageCodec{
		typ: TypePublishNamespace,
		toJSON: func(m Message) map[string]any {
			pn := m.(*PublishNamespace)
			return map[string]any{
				"request_id":      pn.RequestID,
				"track_namespace": []string(pn.TrackNamespace),
				"parameters":      paramsToJSON(pn.Params, messageParamNames),
			}
		},
		fromJSON: func(f *jsonFields) Message {
			return &PublishNamespace{
				RequestID:      f.u64("request_id"),
				TrackNamespace: f.namespace("track_namespace"),
				Params:         f.params("parameters"),
			}
		},
	})
	registerMessageCodec("publish_namespace_done", messageCodec{
		typ: TypePublishNamespaceDone,
		toJSON: func(m Message) map[string]any {
			return map[string]any{"track_namespace": []string(m.(*PublishNamespaceDone).TrackNamespace)}
		},
		fromJSON: func(f *jsonFields) Message {
			return &PublishNamespaceDone{TrackNamespace: f.namespace("track_namespace")}
		},
	})
	registerMessageCodec("publish_namespace_cancel", messageCodec{
		typ: TypePublishNamespaceCancel,
		toJSON: func(m Message) map[string]any {
			pc := m.(*PublishNamespaceCancel)
			return map[string]any{
				"track_namespace": []string(pc.TrackNamespace),
				"error_code":      pc.ErrorCode,
				"reason_phrase":   pc.ReasonPhrase,
			}
		},
		fromJSON: func(f *jsonFields) Message {
			return &PublishNamespaceCancel{
				TrackNamespace: f.namespace("track_namespace"),
				ErrorCode:      f.u64("error_code"),
				ReasonPhrase:   f.str("reason_phrase"),
			}
		},
	})
	// SUBSCRIBE_NAMESPACE's prefix is namespace_prefix in its vectors, but
	// UNSUBSCRIBE_NAMESPACE's is track_namespace_prefix in its own.
	registerMessageCodec("subscribe_namespace", messageCodec{
		typ: TypeSubscribeNamespace,
		toJSON: func(m Message) map[string]any {
			sn := m.(*SubscribeNamespace)
			return map[string]any{
				"request_id":       sn.RequestID,
				"namespace_prefix": []string(sn.NamespacePrefix),
				"parameters":       paramsToJSON(sn.Params, messageParamNames),
			}
		},
		fromJSON: func(f *jsonFields) Message {
			return &SubscribeNamespace{
				RequestID:       f.u64("request_id"),
				NamespacePrefix: f.namespace("namespace_prefix"),
				Params:          f.params("parameters"),
			}
		},
	})
	registerMessageCodec("unsubscribe_namespace", messageCodec{
		typ: TypeUnsubscribeNamespace,
		toJSON: func(m Message) map[string]any {
			return map[string]any{"track_namespace_prefix": []string(m.(*UnsubscribeNamespace).NamespacePrefix)}
		},
		fromJSON: func(f *jsonFields) Message {
			return &UnsubscribeNamespace{NamespacePrefix: f.namespace("track_namespace_prefix")}
		},
	})
}

// requestIDCodec adapts a message whose payload is one varint, keyed
// request_id.
func requestIDCodec(typ MessageType, get func(Message) uint64, build func(uint64) Message) messageCodec {
	return messageCodec{
		typ:      typ,
		toJSON:   func(m Message) map[string]any { return map[string]any{"request_id": get(m)} },
		fromJSON: func(f *jsonFields) Message { return build(f.u64("request_id")) },
	}
}

// requestErrorCodec adapts one of the messages defined as [RequestError].
func requestErrorCodec[T ~struct {
	RequestID    uint64
	ErrorCode    uint64
	ReasonPhrase string
}, P interface {
	*T
	Message
}](typ MessageType) messageCodec {
	return messageCodec{
		typ: typ,
		toJSON: func(m Message) map[string]any {
			e := RequestError(*m.(P))
			return map[string]any{"request_id": e.RequestID, "error_code": e.ErrorCode, "reason_phrase": e.ReasonPhrase}
		},
		fromJSON: func(f *jsonFields) Message {
			e := T(RequestError{RequestID: f.u64("request_id"), ErrorCode: f.u64("error_code"), ReasonPhrase: f.str("reason_phrase")})
			return P(&e)
		},
	}
}

func subscribeToJSON(m *Subscribe) map[string]any {
	out := map[string]any{
		"request_id":          m.RequestID,
		"track_namespace":     []string(m.TrackNamespace),
		"track_name":          m.TrackName,
		"subscriber_priority": uint64(m.SubscriberPriority),
		"group_order":         uint64(m.GroupOrder),
		"forward":             flagJSON(m.Forward),
		"parameters":          paramsToJSON(m.Params, messageParamNames),
	}
	filterToJSON(out, m.FilterType, m.Start, m.EndGroup)
	return out
}

func subscribeFromJSON(f *jsonFields) *Subscribe {
	m := &Subscribe{
		RequestID:          f.u64("request_id"),
		TrackNamespace:     f.namespace("track_namespace"),
		TrackName:          f.str("track_name"),
		SubscriberPriority: jsonU8(f, "subscriber_priority"),
		GroupOrder:         GroupOrder(jsonU8(f, "group_order")),
		Forward:            jsonFlag(f, "forward"),
		Params:             f.params("parameters"),
	}
	m.FilterType, m.Start, m.EndGroup = filterFromJSON(f)
	return m
}

func subscribeOKToJSON(m *SubscribeOK) map[string]any {
	out := map[string]any{
		"request_id":  m.RequestID,
		"track_alias": m.TrackAlias,
		"expires":     m.Expires,
		"group_order": uint64(m.GroupOrder),
		"parameters":  paramsToJSON(m.Params, messageParamNames),
	}
	largestToJSON(out, m.ContentExists, m.Largest)
	return out
}

func subscribeOKFromJSON(f *jsonFields) *SubscribeOK {
	m := &SubscribeOK{
		RequestID:  f.u64("request_id"),
		TrackAlias: f.u64("track_alias"),
		Expires:    f.u64("expires"),
		GroupOrder: GroupOrder(jsonU8(f, "group_order")),
		Params:     f.params("parameters"),
	}
	m.ContentExists, m.Largest = largestFromJSON(f)
	return m
}

// filterToJSON adds filter_type and the start_group, start_object and
// end_group keys the filter type carries.
func filterToJSON(out map[string]any, ft FilterType, start Location, endGroup uint64) {
	out["filter_type"] = uint64(ft)
	if ft.hasStart() {
		out["start_group"], out["start_object"] = start.Group, start.Object
	}
	if ft.hasEndGroup() {
		out["end_group"] = endGroup
	}
}

func filterFromJSON(f *jsonFields) (ft FilterType, start Location, endGroup uint64) {
	ft = FilterType(f.u64("filter_type"))
	if ft.hasStart() {
		start = Location{Group: f.u64("start_group"), Object: f.u64("start_object")}
	}
	if ft.hasEndGroup() {
		endGroup = f.u64("end_group")
	}
	return ft, start, endGroup
}

// largestToJSON adds content_exists and, if it is 1, largest_location.
func largestToJSON(out map[string]any, exists bool, largest Location) {
	out["content_exists"] = flagJSON(exists)
	if exists {
		out["largest_location"] = locationJSON(largest)
	}
}

func largestFromJSON(f *jsonFields) (bool, Location) {
	if !jsonFlag(f, "content_exists") {
		return false, Location{}
	}
	return true, f.location("largest_location")
}

func locationJSON(l Location) map[string]any {
	return map[string]any{"group": l.Group, "object": l.Object}
}

// flagJSON renders a one-byte flag the way the vectors do: "0" or "1".
func flagJSON(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

func jsonFlag(f *jsonFields, k string) bool {
	v := f.u64(k)
	if v > 1 {
		f.fail("field %q: %d is not 0 or 1", k, v)
	}
	return v == 1
}

func jsonU8(f *jsonFields, k string) uint8 {
	v := f.u64(k)
	if v > 0xff {
		f.fail("field %q: %d does not fit in 8 bits", k, v)
	}
	return uint8(v)
}
