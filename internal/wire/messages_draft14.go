package wire

// draft14Messages is the draft-14 message table: every control message type
// the version defines and a constructor for its Go value.
var draft14Messages = map[MessageType]func() Message{
	TypeClientSetup: func() Message { return new(ClientSetup) },
	TypeServerSetup: func() Message { return new(ServerSetup) },
}
