//go:build go1.21

package macp

/*
#include "macp.h"

extern void macpGoLog(macp_log_record *record, void *user_data);
*/
import "C"

import (
	"context"
	"log/slog"
	"sync/atomic"
	"unsafe"
)

// LevelTrace is the slog level of libmacp's trace records (every accepted
// message), below slog.LevelDebug.
const LevelTrace = slog.LevelDebug - 4

var logger atomic.Pointer[slog.Logger]

// SetLogger sends libmacp's diagnostics to l, process-wide: connects,
// reconnects, retries (attempt, backoff_ms), watcher breaks, gaps and
// resumes, refused calls. Each record's attributes are its fields plus
// "target" ("macp::client", "macp::watch"). The least severe level l is
// enabled for (LevelTrace, Debug, Info, Warn, Error) is the level asked
// of the library, once, now. nil turns logging off (the default). Bearer
// tokens, client keys and payload bytes are never logged.
//
// l's handler is called from library threads, concurrently; it must not
// block for long. While it runs, records of the same thread are dropped
// and SetLogger from inside it fails.
func SetLogger(l *slog.Logger) error {
	var e *C.macp_error
	if l == nil {
		err := errorFrom(C.macp_set_log_callback(C.MACP_LOG_LEVEL_OFF, nil, nil, &e), e)
		if err == nil {
			logger.Store(nil)
		}
		return err
	}
	level := C.int32_t(C.MACP_LOG_LEVEL_OFF)
	ctx := context.Background()
	for _, lv := range []struct {
		slog slog.Level
		c    C.int32_t
	}{{LevelTrace, C.MACP_LOG_LEVEL_TRACE}, {slog.LevelDebug, C.MACP_LOG_LEVEL_DEBUG},
		{slog.LevelInfo, C.MACP_LOG_LEVEL_INFO}, {slog.LevelWarn, C.MACP_LOG_LEVEL_WARN},
		{slog.LevelError, C.MACP_LOG_LEVEL_ERROR}} {
		if l.Enabled(ctx, lv.slog) {
			level = lv.c
			break
		}
	}
	logger.Store(l)
	return errorFrom(C.macp_set_log_callback(level, C.macp_log_callback(C.macpGoLog), nil, &e), e)
}

//export macpGoLog
func macpGoLog(r *C.macp_log_record, _ unsafe.Pointer) {
	l := logger.Load()
	if l == nil {
		return
	}
	var level slog.Level
	switch r.level {
	case C.MACP_LOG_LEVEL_ERROR:
		level = slog.LevelError
	case C.MACP_LOG_LEVEL_WARN:
		level = slog.LevelWarn
	case C.MACP_LOG_LEVEL_INFO:
		level = slog.LevelInfo
	case C.MACP_LOG_LEVEL_DEBUG:
		level = slog.LevelDebug
	default:
		level = LevelTrace
	}
	n := int(r.field_count)
	attrs := make([]slog.Attr, 0, n+1)
	attrs = append(attrs, slog.String("target", C.GoString(r.target)))
	if n > 0 {
		fields := unsafe.Slice(r.fields, n)
		for _, f := range fields {
			attrs = append(attrs, slog.String(C.GoString(f.key), C.GoString(f.value)))
		}
	}
	l.LogAttrs(context.Background(), level, C.GoString(r.message), attrs...)
}
