package macp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	macp "github.com/libmacp/libmacp/bindings/go"
)

// A replaced token is the identity of the same client's later calls: a
// non-participant is refused, a participant accepted, none unauthenticated.
func TestBearerTokenIsReplacedOnALiveClient(t *testing.T) {
	coord := dial(t, "go-rot-coordinator")
	s, _, err := coord.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{
		Participants: []string{"go-rot-alice", "go-rot-bob"}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := dial(t, "go-rot-alice")
	as := open(t, c, s.ID())
	must(t)(as.Decision().Propose(ctx(t), "p1", "x", "", nil))

	if err := c.SetBearerToken("go-rot-mallory"); err != nil {
		t.Fatal(err)
	}
	if _, err := as.Decision().Propose(ctx(t), "p2", "x", "", nil); !errors.Is(err, macp.StatusForbidden) {
		t.Fatalf("as mallory: %v", err)
	}
	if err := c.SetBearerToken("go-rot-bob"); err != nil {
		t.Fatal(err)
	}
	must(t)(as.Decision().Propose(ctx(t), "p3", "x", "", nil))
	if err := c.ClearBearerToken(); err != nil {
		t.Fatal(err)
	}
	if _, err := as.Decision().Propose(ctx(t), "p4", "x", "", nil); !errors.Is(err, macp.StatusUnauthenticated) {
		t.Fatalf("without a token: %v", err)
	}
	for _, bad := range []string{"", "two words", "nul\x00byte"} {
		if err := c.SetBearerToken(bad); !errors.Is(err, macp.StatusInvalidArgument) {
			t.Fatalf("SetBearerToken(%q): %v", bad, err)
		}
	}
}

const goTraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestTraceContextComesFromTheContext(t *testing.T) {
	if tp, ts := macp.TraceContextFrom(context.Background()); tp != "" || ts != "" {
		t.Fatalf("an empty context carries %q %q", tp, ts)
	}
	withTP := macp.WithTraceParent(context.Background(), goTraceParent, "vendor=1")
	if tp, ts := macp.TraceContextFrom(withTP); tp != goTraceParent || ts != "vendor=1" {
		t.Fatalf("got %q %q", tp, ts)
	}
	// An extractor (an OpenTelemetry propagator, say) finds the rest.
	type span struct{}
	macp.SetTraceExtractor(func(ctx context.Context) (string, string) {
		if ctx.Value(span{}) != nil {
			return goTraceParent, ""
		}
		return "", ""
	})
	defer macp.SetTraceExtractor(nil)
	inSpan := context.WithValue(context.Background(), span{}, true)
	if tp, _ := macp.TraceContextFrom(inSpan); tp != goTraceParent {
		t.Fatalf("extractor: %q", tp)
	}

	c := dial(t, "go-trace-coordinator")
	s := startDecision(t, c, "go-trace-bob")
	if err := s.SetTraceContextFrom(inSpan); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Info(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetTraceContext(goTraceParent, "vendor=1"); err != nil {
		t.Fatal(err)
	}
	bad := macp.WithTraceParent(context.Background(), "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "")
	if err := s.SetTraceContextFrom(bad); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("uppercase traceparent: %v", err)
	}
	if err := c.SetTraceContext("00-0-0-01", ""); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("short traceparent: %v", err)
	}
	if err := c.SetTraceContext("", ""); err != nil {
		t.Fatal(err)
	}
}

func TestClientCertificateInputIsChecked(t *testing.T) {
	cert := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	key := []byte("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
	_, err := macp.Dial(ctx(t), target, macp.WithClientCertificate(key, key))
	if !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("a key as the certificate: %v", err)
	}
	// A client certificate needs TLS.
	_, err = macp.Dial(ctx(t), target, macp.WithInsecure(), macp.WithClientCertificate(cert, key))
	if !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("plaintext with a client certificate: %v", err)
	}
}
