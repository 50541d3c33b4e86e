//go:build go1.21

package macp_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	macp "github.com/libmacp/libmacp/bindings/go"
)

// syncBuffer is a bytes.Buffer safe for the library threads that log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSetLoggerDeliversRecordsWithoutSecrets(t *testing.T) {
	out := &syncBuffer{}
	l := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: macp.LevelTrace}))
	if err := macp.SetLogger(l); err != nil {
		t.Fatal(err)
	}
	defer macp.SetLogger(nil)

	coord := dial(t, "go-log-coordinator")
	s := startDecision(t, coord, "go-log-bob")
	c := dial(t, "go-log-bob")
	bs := open(t, c, s.ID())
	must(t)(bs.Decision().Propose(ctx(t), "p1", "x", "", []byte("GO-PAYLOAD-MARKER")))
	if err := c.SetBearerToken("tok-go-secret-99"); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		`level=INFO msg=connected target=macp::client`,
		`msg="bearer token replaced"`,
		`msg="message accepted" target=macp::client session_id=` + s.ID(),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %s in\n%s", want, got)
		}
	}
	for _, secret := range []string{"GO-PAYLOAD-MARKER", "tok-go-secret-99"} {
		if strings.Contains(got, secret) {
			t.Errorf("the log shows %q:\n%s", secret, got)
		}
	}

	// Off: nothing more.
	if err := macp.SetLogger(nil); err != nil {
		t.Fatal(err)
	}
	before := out.String()
	dial(t, "go-log-quiet")
	if out.String() != before {
		t.Fatalf("logged after SetLogger(nil):\n%s", strings.TrimPrefix(out.String(), before))
	}

	// A logger's level is what the library is asked for.
	out = &syncBuffer{}
	if err := macp.SetLogger(slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelWarn}))); err != nil {
		t.Fatal(err)
	}
	dial(t, "go-log-warn")
	if got := out.String(); got != "" {
		t.Fatalf("info records at warn:\n%s", got)
	}
}
