package macp

/*
#include <stdlib.h>
#include "macp.h"
*/
import "C"

import (
	"context"
	"encoding/json"
)

// The answers of discovery and the registries are JSON (protobuf's JSON
// mapping with the .proto field names, every field present), returned as
// json.RawMessage to decode into the structs a caller needs.

func jsonCall(ctx context.Context, f stringFunc) (json.RawMessage, error) {
	s, err := stringCall(ctx, f)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(s), nil
}

// Initialize is the runtime's Initialize answer: runtime info,
// capabilities, supported modes.
func (c *Client) Initialize(ctx context.Context) (json.RawMessage, error) {
	return jsonCall(ctx, func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_client_initialize_json(c.h, out, e)
	})
}

// Manifest is GetManifest: the runtime's manifest (agentID "") or an
// agent's.
func (c *Client) Manifest(ctx context.Context, agentID string) (json.RawMessage, error) {
	return jsonCall(ctx, func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_client_get_manifest(c.h, cs.opt(agentID), out, cs.call, e)
	})
}

// ListModes lists the standards-track modes (a JSON array of
// ModeDescriptor).
func (c *Client) ListModes(ctx context.Context) (json.RawMessage, error) {
	return jsonCall(ctx, func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_client_list_modes(c.h, out, cs.call, e)
	})
}

// ListExtModes lists the extension modes.
func (c *Client) ListExtModes(ctx context.Context) (json.RawMessage, error) {
	return jsonCall(ctx, func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_client_list_ext_modes(c.h, out, cs.call, e)
	})
}

// RegisterExtMode registers an extension mode from its ModeDescriptor JSON.
func (c *Client) RegisterExtMode(ctx context.Context, descriptorJSON string) error {
	return statusCall(ctx, func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_register_ext_mode(c.h, cs.s(descriptorJSON), cs.call, e)
	})
}

// UnregisterExtMode removes a registered extension mode.
func (c *Client) UnregisterExtMode(ctx context.Context, mode string) error {
	return statusCall(ctx, func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_unregister_ext_mode(c.h, cs.req("mode", mode), cs.call, e)
	})
}

// PromoteMode promotes an extension mode to standards-track (renamed unless
// newName is "") and returns its name after promotion.
func (c *Client) PromoteMode(ctx context.Context, mode, newName string) (string, error) {
	return stringCall(ctx, func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_client_promote_mode(c.h, cs.req("mode", mode), cs.opt(newName), out, cs.call, e)
	})
}

// ListRoots lists the runtime's resource roots.
func (c *Client) ListRoots(ctx context.Context) (json.RawMessage, error) {
	return jsonCall(ctx, func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_client_list_roots(c.h, out, cs.call, e)
	})
}

// RegisterPolicy registers a governance policy written as RFC-MACP-0012
// writes it: {"policy_id", "mode", "description", "schema_version",
// "rules": {...}}.
func (c *Client) RegisterPolicy(ctx context.Context, policyJSON string) error {
	return statusCall(ctx, func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_register_policy(c.h, cs.s(policyJSON), cs.call, e)
	})
}

// UnregisterPolicy removes a policy.
func (c *Client) UnregisterPolicy(ctx context.Context, policyID string) error {
	return statusCall(ctx, func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_unregister_policy(c.h, cs.req("policy_id", policyID), cs.call, e)
	})
}

// Policy is GetPolicy: a policy (rules as an object).
func (c *Client) Policy(ctx context.Context, policyID string) (json.RawMessage, error) {
	return jsonCall(ctx, func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_client_get_policy(c.h, cs.req("policy_id", policyID), out, cs.call, e)
	})
}

// ListPolicies lists the policies, all of them (mode "") or one mode's.
func (c *Client) ListPolicies(ctx context.Context, mode string) (json.RawMessage, error) {
	return jsonCall(ctx, func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_client_list_policies(c.h, cs.opt(mode), out, cs.call, e)
	})
}

// WhatIfReplay replays a session's history under a candidate policy (the
// form RegisterPolicy takes; never registered) and reports how the outcome
// would differ.
func (c *Client) WhatIfReplay(ctx context.Context, sessionID, candidateJSON string) (json.RawMessage, error) {
	return jsonCall(ctx, func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_client_what_if_replay(c.h, cs.s(sessionID), cs.s(candidateJSON), out, cs.call, e)
	})
}

// SendSignal sends an ambient Signal (no session): signalType, optional
// data, a confidence from 0 to 1 and an optional correlated session.
func (c *Client) SendSignal(ctx context.Context, signalType string, data []byte, confidence float64, correlationSessionID string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		p, n := bytesArg(data)
		return C.macp_client_send_signal(c.h, cs.req("signal_type", signalType), p, n, C.double(confidence), cs.opt(correlationSessionID), ack, cs.call, e)
	})
}

// PayloadJSON decodes protobuf bytes of the message typeName (for example
// an Envelope's payload, "macp.modes.decision.v1.VotePayload") to JSON.
func PayloadJSON(typeName string, data []byte) (_ json.RawMessage, err error) {
	defer catchArg(&err)
	s, err := callString(func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		p, n := bytesArg(data)
		return C.macp_payload_to_json(cs.req("type_name", typeName), p, n, out, e)
	}, nil)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(s), nil
}

// PayloadType names the protobuf type the schema defines for messageType in
// mode, as PayloadJSON and PayloadFromJSON take it: "Commitment", "Signal",
// "Progress" and "SessionStart" are "macp.v1.<messageType>Payload" in every
// mode; in "macp.mode.<name>.<v>" or "ext.<name>.<v>" any other message
// type is "macp.modes.<name>.<v>.<messageType>Payload". A message type the
// schema has no payload for is an error with StatusInvalidArgument.
func PayloadType(mode, messageType string) (_ string, err error) {
	defer catchArg(&err)
	return callString(func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_payload_type(cs.s(mode), cs.req("message_type", messageType), out, e)
	}, nil)
}

// PayloadJSON decodes the envelope's payload to JSON, as the type
// PayloadType names for its mode and message type.
func (e *Envelope) PayloadJSON() (json.RawMessage, error) {
	t, err := PayloadType(e.Mode, e.MessageType)
	if err != nil {
		return nil, err
	}
	return PayloadJSON(t, e.Payload)
}

// PayloadFromJSON encodes a JSON object as the protobuf message typeName.
func PayloadFromJSON(typeName, payloadJSON string) (_ []byte, err error) {
	defer catchArg(&err)
	var cs cstrings
	defer cs.free()
	t, j := cs.req("type_name", typeName), cs.s(payloadJSON)
	var n C.size_t
	var e *C.macp_error
	if err := errorFrom(C.macp_payload_from_json(t, j, nil, 0, &n, &e), e); err != nil {
		return nil, err
	}
	if n == 0 {
		return []byte{}, nil
	}
	buf := C.malloc(n)
	defer C.free(buf)
	e = nil
	if err := errorFrom(C.macp_payload_from_json(t, j, (*C.uint8_t)(buf), n, &n, &e), e); err != nil {
		return nil, err
	}
	return C.GoBytes(buf, C.int(n)), nil
}
