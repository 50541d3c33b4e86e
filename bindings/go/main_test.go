package macp_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// target is the address of the runtime TestMain starts for the tests.
var target string

const runtimeID = "go-test-runtime"

// runtimeBin is $MACP_RUNTIME_BIN, macp-runtime on PATH, or the one cargo
// installed.
func runtimeBin() string {
	if p := os.Getenv("MACP_RUNTIME_BIN"); p != "" {
		return p
	}
	if p, err := exec.LookPath("macp-runtime"); err == nil {
		return p
	}
	home := os.Getenv("CARGO_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cargo")
	}
	return filepath.Join(home, "bin", "macp-runtime")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startRuntime starts a memory-only runtime that signs decision receipts
// and keeps ended sessions' history, and waits until it accepts
// connections.
func startRuntime() (*exec.Cmd, string, error) {
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return nil, "", err
	}
	jwk := fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","kid":"go-test","d":%q}`, base64.RawURLEncoding.EncodeToString(seed))
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, "", err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		cmd := exec.Command(runtimeBin())
		cmd.Env = append(os.Environ(),
			"MACP_BIND_ADDR="+addr,
			"MACP_ALLOW_INSECURE=1",
			"MACP_MEMORY_ONLY=1",
			"MACP_MESSAGE_LIMIT_PER_MINUTE=1000000",
			"MACP_SESSION_START_LIMIT_PER_MINUTE=1000000",
			"MACP_COMPACT_TERMINAL_LOGS=0",
			"MACP_RECEIPT_SIGNING_KEY="+jwk,
			"MACP_RUNTIME_ID="+runtimeID,
			"RUST_LOG=error",
		)
		if err := cmd.Start(); err != nil {
			return nil, "", fmt.Errorf("starting %s: %w", cmd.Path, err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
				c.Close()
				return cmd, addr, nil
			}
			select {
			case <-exited: // e.g. the port was taken meanwhile: try another
				deadline = time.Time{}
			case <-time.After(50 * time.Millisecond):
			}
		}
		_ = cmd.Process.Kill()
	}
	return nil, "", fmt.Errorf("the runtime did not start")
}

func TestMain(m *testing.M) {
	cmd, addr, err := startRuntime()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	target = addr
	code := m.Run()
	_ = cmd.Process.Kill()
	os.Exit(code)
}

// ctx is a test's context: bounded, so a hang fails instead of blocking.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}
