package macp

/*
#include <stdlib.h>
#include "macp.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Status names the outcome of a call: a code of the MACP error registry
// (1 to 23) or a failure that never reached the runtime (100 and up). The
// values are those of the C ABI's macp_status.
//
// A Status is itself an error, so every failure can be matched by its code:
//
//	if errors.Is(err, macp.StatusSessionNotFound) { ... }
type Status int32

// The statuses, as in the C header (MACP_STATUS_*).
const (
	StatusOK                         Status = C.MACP_STATUS_OK
	StatusUnauthenticated            Status = C.MACP_STATUS_UNAUTHENTICATED
	StatusForbidden                  Status = C.MACP_STATUS_FORBIDDEN
	StatusSessionNotFound            Status = C.MACP_STATUS_SESSION_NOT_FOUND
	StatusSessionNotOpen             Status = C.MACP_STATUS_SESSION_NOT_OPEN
	StatusDuplicateMessage           Status = C.MACP_STATUS_DUPLICATE_MESSAGE
	StatusSessionAlreadyExists       Status = C.MACP_STATUS_SESSION_ALREADY_EXISTS
	StatusInvalidEnvelope            Status = C.MACP_STATUS_INVALID_ENVELOPE
	StatusUnsupportedProtocolVersion Status = C.MACP_STATUS_UNSUPPORTED_PROTOCOL_VERSION
	StatusModeNotSupported           Status = C.MACP_STATUS_MODE_NOT_SUPPORTED
	StatusPayloadTooLarge            Status = C.MACP_STATUS_PAYLOAD_TOO_LARGE
	StatusRateLimited                Status = C.MACP_STATUS_RATE_LIMITED
	StatusInvalidSessionID           Status = C.MACP_STATUS_INVALID_SESSION_ID
	StatusInternalError              Status = C.MACP_STATUS_INTERNAL_ERROR
	StatusUnknownPolicyVersion       Status = C.MACP_STATUS_UNKNOWN_POLICY_VERSION
	StatusPolicyDenied               Status = C.MACP_STATUS_POLICY_DENIED
	StatusInvalidPolicyDefinition    Status = C.MACP_STATUS_INVALID_POLICY_DEFINITION
	StatusRegistryReadOnly           Status = C.MACP_STATUS_REGISTRY_READ_ONLY
	StatusInvalidRequest             Status = C.MACP_STATUS_INVALID_REQUEST
	StatusStreamLagged               Status = C.MACP_STATUS_STREAM_LAGGED
	StatusAgentNotFound              Status = C.MACP_STATUS_AGENT_NOT_FOUND
	StatusHistoryUnavailable         Status = C.MACP_STATUS_HISTORY_UNAVAILABLE
	StatusReceiptUnavailable         Status = C.MACP_STATUS_RECEIPT_UNAVAILABLE
	StatusUnauthorized               Status = C.MACP_STATUS_UNAUTHORIZED
	StatusInvalidArgument            Status = C.MACP_STATUS_INVALID_ARGUMENT
	StatusInvalidHandle              Status = C.MACP_STATUS_INVALID_HANDLE
	StatusTransport                  Status = C.MACP_STATUS_TRANSPORT
	StatusTimeout                    Status = C.MACP_STATUS_TIMEOUT
	StatusCancelled                  Status = C.MACP_STATUS_CANCELLED
	StatusUnsupported                Status = C.MACP_STATUS_UNSUPPORTED
	StatusRPC                        Status = C.MACP_STATUS_RPC
	StatusInvalidState               Status = C.MACP_STATUS_INVALID_STATE
	StatusPanic                      Status = C.MACP_STATUS_PANIC
)

// String is the registry code ("SESSION_NOT_FOUND") or the SDK status name
// ("TIMEOUT").
func (s Status) String() string { return C.GoString(C.macp_status_name(C.int32_t(s))) }

// Error makes a Status usable as a sentinel with errors.Is.
func (s Status) Error() string { return "macp: " + s.String() }

// Transient reports whether a retry of the same call may succeed.
func (s Status) Transient() bool { return bool(C.macp_status_is_transient(C.int32_t(s))) }

// Error is every failure of this package that is not a context's: the
// status, the runtime's code string and message, details bytes (often JSON,
// such as a policy denial's reasons) and the ids the failure concerns.
type Error struct {
	Status    Status
	Code      string
	Message   string
	Details   []byte
	SessionID string
	MessageID string
	// GRPCCode is the gRPC status code when the failure was a gRPC status.
	GRPCCode int32
	// Delivery says whether the request may have taken effect: after
	// DeliveryUnknown, re-send a message with the same MessageID.
	Delivery Delivery
	// cause is the context error that cancelled the call, if any.
	cause error
}

// Delivery is whether a failed call's request may have taken effect
// (macp_delivery).
type Delivery int32

// The deliveries (MACP_DELIVERY_*).
const (
	// DeliveryNotSent: nothing reached the runtime.
	DeliveryNotSent Delivery = C.MACP_DELIVERY_NOT_SENT
	// DeliveryRefused: the runtime answered and did not apply it.
	DeliveryRefused Delivery = C.MACP_DELIVERY_REFUSED
	// DeliveryUnknown: it went out and no answer decided it (timeout,
	// cancellation, a broken connection); it may have been applied.
	DeliveryUnknown Delivery = C.MACP_DELIVERY_UNKNOWN
)

// String is the C name without its prefix ("NOT_SENT", "REFUSED",
// "UNKNOWN").
func (d Delivery) String() string {
	switch d {
	case DeliveryNotSent:
		return "NOT_SENT"
	case DeliveryRefused:
		return "REFUSED"
	case DeliveryUnknown:
		return "UNKNOWN"
	}
	return fmt.Sprintf("Delivery(%d)", int32(d))
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("macp: %s: %s (%v)", e.Code, e.Message, e.cause)
	}
	return fmt.Sprintf("macp: %s: %s", e.Code, e.Message)
}

// Unwrap is the context error that ended the call (nil if none), so
// errors.Is(err, context.Canceled) and errors.Is(err,
// context.DeadlineExceeded) hold for calls their context ended.
func (e *Error) Unwrap() error { return e.cause }

// contextError is the error of a call whose context ended: the call's own
// *Error (with its ids and Delivery) wrapping ctxErr.
func contextError(ctxErr, err error) error {
	me, ok := err.(*Error)
	if !ok {
		return ctxErr
	}
	me.cause = ctxErr
	return me
}

// Is matches a Status: errors.Is(err, macp.StatusForbidden).
func (e *Error) Is(target error) bool {
	s, ok := target.(Status)
	return ok && s == e.Status
}

// errorFrom turns a C status and error object into a Go error (nil for OK),
// freeing the error object.
func errorFrom(st C.macp_status, e *C.macp_error) error {
	if st == C.MACP_STATUS_OK {
		if e != nil {
			C.macp_error_free(e)
		}
		return nil
	}
	err := &Error{Status: Status(st), Code: Status(st).String()}
	if e != nil {
		err.Code = C.GoString(C.macp_error_code(e))
		err.Message = C.GoString(C.macp_error_message(e))
		err.SessionID = C.GoString(C.macp_error_session_id(e))
		err.MessageID = C.GoString(C.macp_error_message_id(e))
		err.GRPCCode = int32(C.macp_error_grpc_code(e))
		err.Delivery = Delivery(C.macp_error_delivery(e))
		var data *C.uint8_t
		var n C.size_t
		C.macp_error_details(e, &data, &n)
		if data != nil && n > 0 {
			err.Details = C.GoBytes(unsafe.Pointer(data), C.int(n))
		}
		C.macp_error_free(e)
	}
	return err
}

// invalid is an argument failure found on the Go side, before any C call.
func invalid(format string, args ...any) error {
	return &Error{Status: StatusInvalidArgument, Code: StatusInvalidArgument.String(), Message: fmt.Sprintf(format, args...)}
}
