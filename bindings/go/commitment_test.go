package macp_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	macp "github.com/libmacp/libmacp/bindings/go"
)

func vectorsDir() string {
	if d := os.Getenv("MACP_VECTORS_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "vectors")
}

// The RFC-MACP-0013 vectors of $MACP_VECTORS_DIR/conformance/cmt-hash, one
// subtest each: a compute vector's payload hashes to its hash; a verify
// vector's wire bytes and claim give its expected outcome.
func TestCommitmentHashVectors(t *testing.T) {
	dir := filepath.Join(vectorsDir(), "conformance", "cmt-hash")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in %s (set MACP_VECTORS_DIR): %v", dir, err)
	}
	ran := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if name == "vector-schema" {
			continue
		}
		ran++
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v struct {
				Payload *struct {
					CommitmentID         string `json:"commitment_id"`
					Action               string `json:"action"`
					AuthorityScope       string `json:"authority_scope"`
					Reason               string `json:"reason"`
					ModeVersion          string `json:"mode_version"`
					PolicyVersion        string `json:"policy_version"`
					ConfigurationVersion string `json:"configuration_version"`
					OutcomePositive      bool   `json:"outcome_positive"`
					Supersedes           *struct {
						SessionID      string `json:"session_id"`
						CommitmentHash string `json:"commitment_hash"`
					} `json:"supersedes"`
				} `json:"payload"`
				Hash            string `json:"hash"`
				WireHex         string `json:"wire_hex"`
				ClaimedHash     string `json:"claimed_hash"`
				ExpectedOutcome string `json:"expected_outcome"`
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			switch {
			case v.Payload != nil:
				p := v.Payload
				c := macp.Commitment{CommitmentID: p.CommitmentID, Action: p.Action, AuthorityScope: p.AuthorityScope, Reason: p.Reason, OutcomePositive: p.OutcomePositive}
				if p.Supersedes != nil {
					c.Supersedes = &macp.CommitmentRef{SessionID: p.Supersedes.SessionID, CommitmentHash: p.Supersedes.CommitmentHash}
				}
				got, err := macp.CommitmentHash(c, p.ModeVersion, p.PolicyVersion, p.ConfigurationVersion)
				if err != nil || got != v.Hash {
					t.Fatalf("hash %q %v, want %q", got, err, v.Hash)
				}
				if !macp.IsCanonicalCommitmentHash(got) {
					t.Fatalf("%q is not canonical", got)
				}
			case v.WireHex != "":
				wire, err := hex.DecodeString(v.WireHex)
				if err != nil {
					t.Fatal(err)
				}
				r, err := macp.VerifyCommitment(wire, v.ClaimedHash)
				if err != nil || r.Outcome.String() != v.ExpectedOutcome {
					t.Fatalf("outcome %v %v, want %s", r.Outcome, err, v.ExpectedOutcome)
				}
			default:
				t.Fatal("neither a compute nor a verify vector")
			}
		})
	}
	if ran == 0 {
		t.Fatalf("no vectors in %s", dir)
	}
}

// The receipt vectors of $MACP_VECTORS_DIR/receipt, when that folder
// exists: verifying `receipt` while trusting exactly `trusted_keys` (kid to
// Ed25519 public key) gives `expected`.
func TestReceiptVectors(t *testing.T) {
	dir := filepath.Join(vectorsDir(), "receipt")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("%s is absent; nothing to run", dir)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	ran := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if name == "vector-schema" {
			continue
		}
		ran++
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v struct {
				Receipt     json.RawMessage   `json:"receipt"`
				TrustedKeys map[string]string `json:"trusted_keys"`
				Expected    struct {
					Integrity    *string  `json:"integrity"`
					Attestations []string `json:"attestations"`
					Verdict      string   `json:"verdict"`
				} `json:"expected"`
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			var keys []map[string]string
			for kid, x := range v.TrustedKeys {
				keys = append(keys, map[string]string{"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": x})
			}
			jwks, _ := json.Marshal(map[string]any{"keys": keys})
			r, err := macp.VerifyReceipt(string(v.Receipt), string(jwks))
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if v.Expected.Integrity != nil {
				want = *v.Expected.Integrity
			}
			var atts []string
			for _, a := range r.Attestations {
				atts = append(atts, a.Outcome.String())
			}
			if r.Integrity.String() != want || r.Verdict.String() != v.Expected.Verdict ||
				strings.Join(atts, ",") != strings.Join(v.Expected.Attestations, ",") {
				t.Fatalf("got %q %v %s, want %q %v %s", r.Integrity, atts, r.Verdict, want, v.Expected.Attestations, v.Expected.Verdict)
			}
		})
	}
	if ran == 0 {
		t.Fatalf("no receipt vectors in %s", dir)
	}
}

func TestCommitmentVerification(t *testing.T) {
	wire, err := macp.PayloadFromJSON("macp.v1.CommitmentPayload", `{"commitment_id":"c1","action":"a","mode_version":"1.0.0","outcome_positive":true}`)
	if err != nil {
		t.Fatal(err)
	}
	h, err := macp.CommitmentHashOfWire(wire)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := macp.VerifyCommitment(wire, h); r.Outcome != macp.VerifyMatch || r.ComputedHash != h {
		t.Fatalf("own hash: %+v", r)
	}
	other := h[:len(h)-1] + map[bool]string{true: "0", false: "1"}[h[len(h)-1] != '0']
	if r, _ := macp.VerifyCommitment(wire, other); r.Outcome != macp.VerifyMismatch || r.ComputedHash != h {
		t.Fatalf("other hash: %+v", r)
	}
	// Field 99 is outside what the hash covers.
	unknown := append(append([]byte{}, wire...), 0x98, 0x06, 0x01)
	if r, _ := macp.VerifyCommitment(unknown, h); r.Outcome != macp.VerifyCannotVerify || r.Reason != macp.CannotVerifyUnknownField || r.UnknownFieldTag != 99 {
		t.Fatalf("unknown field: %+v", r)
	}
	if r, _ := macp.VerifyCommitment([]byte{0xff}, h); r.Outcome != macp.VerifyCannotVerify || r.Reason != macp.CannotVerifyMalformed {
		t.Fatalf("malformed: %+v", r)
	}
}

func TestDecisionReceiptVerifiesAndTamperingIsDetected(t *testing.T) {
	c := dial(t, "go-receipts")
	s, _, err := c.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{Participants: []string{"go-receipts"}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := c.DecisionReceipt(ctx(t), s.ID()); !errors.Is(err, macp.StatusReceiptUnavailable) {
		t.Fatalf("receipt of an open session: %v", err)
	}
	must(t)(s.Decision().Propose(ctx(t), "p1", "x", "", nil))
	must(t)(s.Commit(ctx(t), macp.Commitment{Action: "decision.selected", AuthorityScope: "test", Reason: "done", OutcomePositive: true}))
	receipt, err := c.DecisionReceipt(ctx(t), s.ID())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := c.ReceiptKeys(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	v, err := macp.VerifyReceipt(receipt, keys)
	if err != nil || v.Integrity != macp.IntegrityMatch || v.Verdict != macp.VerdictAttested ||
		len(v.Attestations) != 1 || v.Attestations[0].Outcome != macp.AttestationValid || v.Attestations[0].KeyID != "go-test" {
		t.Fatalf("genuine receipt: %+v %v", v, err)
	}
	if v, _ := macp.VerifyReceipt(receipt); v.Verdict != macp.VerdictIntegrityOnly {
		t.Fatalf("trusting no key: %+v", v)
	}
	// One byte of the issuer changed: the signature no longer covers it.
	issuer := "runtime:" + runtimeID
	if strings.Count(receipt, issuer) != 1 {
		t.Fatalf("issuer %q not found once in %s", issuer, receipt)
	}
	forged := strings.Replace(receipt, issuer, issuer[:len(issuer)-1]+"X", 1)
	v, err = macp.VerifyReceipt(forged, keys)
	if err != nil || v.Verdict == macp.VerdictAttested || v.Attestations[0].Outcome != macp.AttestationInvalid {
		t.Fatalf("forged receipt: %+v %v", v, err)
	}
	if _, err := macp.VerifyReceipt("not json", keys); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("not JSON: %v", err)
	}
}
