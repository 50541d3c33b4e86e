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
	StatusOK                         Status = 0
	StatusUnauthenticated            Status = 1
	StatusForbidden                  Status = 2
	StatusSessionNotFound            Status = 3
	StatusSessionNotOpen             Status = 4
	StatusDuplicateMessage           Status = 5
	StatusSessionAlreadyExists       Status = 6
	StatusInvalidEnvelope            Status = 7
	StatusUnsupportedProtocolVersion Status = 8
	StatusModeNotSupported           Status = 9
	StatusPayloadTooLarge            Status = 10
	StatusRateLimited                Status = 11
	StatusInvalidSessionID           Status = 12
	StatusInternalError              Status = 13
	StatusUnknownPolicyVersion       Status = 14
	StatusPolicyDenied               Status = 15
	StatusInvalidPolicyDefinition    Status = 16
	StatusRegistryReadOnly           Status = 17
	StatusInvalidRequest             Status = 18
	StatusStreamLagged               Status = 19
	StatusAgentNotFound              Status = 20
	StatusHistoryUnavailable         Status = 21
	StatusReceiptUnavailable         Status = 22
	StatusUnauthorized               Status = 23
	StatusInvalidArgument            Status = 100
	StatusInvalidHandle              Status = 101
	StatusTransport                  Status = 102
	StatusTimeout                    Status = 103
	StatusCancelled                  Status = 104
	StatusUnsupported                Status = 105
	StatusRPC                        Status = 106
	StatusInvalidState               Status = 107
	StatusPanic                      Status = 108
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
}

func (e *Error) Error() string { return fmt.Sprintf("macp: %s: %s", e.Code, e.Message) }

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
