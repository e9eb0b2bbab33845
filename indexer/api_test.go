package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	iotago "github.com/iotaledger/iota.go/v3"
)

type apiFixture struct {
	srv    *httptest.Server
	store  *Store
	events *broker
	payee  iotago.Address
	block  *TaggedBlock
}

func newAPIFixture(t *testing.T, token string) *apiFixture {
	t.Helper()
	s := testStore(t, t.TempDir())
	node := &nodeView{}
	node.update(func(v *nodeView) { v.connected, v.bech32HRP = true, "watt" })
	f := &apiFixture{store: s, events: newBroker(), payee: ed(2)}

	block, tx := transactionBlock("tanglewatt/pay/v1", `{"payments":[{"key":"k1"}]}`, owned(f.payee, 1_000_000))
	txID, _ := tx.ID()
	blockJSON, _ := json.Marshal(block)
	f.block = &TaggedBlock{BlockID: block.MustID().ToHex(), MilestoneIndex: 4, Tag: iotago.EncodeHex([]byte("tanglewatt/pay/v1")),
		LedgerInclusionState: "included", TransactionID: txID.ToHex(), Block: blockJSON, id: block.MustID(), tag: []byte("tanglewatt/pay/v1")}
	err := s.ApplyMilestone(&MilestoneUpdate{
		Summary: milestone(4),
		Created: []LedgerOutput{created(iotago.OutputIDFromTransactionIDAndIndex(txID, 0), 4, owned(f.payee, 1_000_000))},
		Blocks:  []*TaggedBlock{f.block},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer((&api{store: s, events: f.events, node: node, token: token}).handler())
	t.Cleanup(f.srv.Close)

	return f
}

func (f *apiFixture) get(t *testing.T, path string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if len(header) == 2 {
		req.Header.Set(header[0], header[1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)

	return res.StatusCode, string(body)
}

func TestAPIServesStoredData(t *testing.T) {
	f := newAPIFixture(t, "")

	code, body := f.get(t, "/api/v1/milestones/4")
	if code != 200 || !strings.Contains(body, `"index":4`) {
		t.Fatalf("milestone: %d %s", code, body)
	}

	code, body = f.get(t, "/api/v1/addresses/"+f.payee.Bech32("watt")+"/outputs?unspent=true")
	var outputs struct {
		Items []outputBody `json:"items"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &outputs) != nil || len(outputs.Items) != 1 {
		t.Fatalf("outputs: %d %s", code, body)
	}
	if it := outputs.Items[0]; it.Metadata.TransactionID != f.block.TransactionID || it.Metadata.IsSpent || it.Roles[0] != "address" {
		t.Fatalf("output item = %+v", it)
	}

	// tags with slashes work raw or escaped, and as 0x-hex.
	for _, tag := range []string{"tanglewatt/pay/v1", "tanglewatt%2Fpay%2Fv1", "tanglewatt/", iotago.EncodeHex([]byte("tanglewatt/pay"))} {
		code, body = f.get(t, "/api/v1/tags/"+tag+"/blocks?from=4&limit=10")
		if code != 200 || !strings.Contains(body, f.block.BlockID) || strings.Contains(body, `"block"`) {
			t.Fatalf("tag %s: %d %s", tag, code, body)
		}
	}
	code, body = f.get(t, "/api/v1/tags/tanglewatt/pay/v1/blocks?from=5")
	if code != 200 || strings.Contains(body, f.block.BlockID) {
		t.Fatalf("from past the block: %d %s", code, body)
	}

	code, body = f.get(t, "/api/v1/blocks/"+f.block.BlockID)
	if code != 200 || body != string(f.block.Block) {
		t.Fatalf("block must be served byte for byte as stored: %d %s", code, body)
	}
	code, body = f.get(t, "/api/v1/blocks/"+f.block.BlockID+"/metadata")
	if code != 200 || !strings.Contains(body, `"ledgerInclusionState":"included"`) {
		t.Fatalf("block metadata: %d %s", code, body)
	}

	code, body = f.get(t, "/health")
	if code != 200 || !strings.Contains(body, `"indexedMilestone":4`) {
		t.Fatalf("health: %d %s", code, body)
	}
}

func TestAPIRejectsBadInputNamingTheField(t *testing.T) {
	f := newAPIFixture(t, "")
	for path, field := range map[string]string{
		"/api/v1/milestones/abc":                                             "index:",
		"/api/v1/milestones/0":                                               "index:",
		"/api/v1/addresses/nope/outputs":                                     "address:",
		"/api/v1/addresses/" + ed(1).Bech32("rms") + "/outputs":              "address:",
		"/api/v1/addresses/" + ed(1).Bech32("watt") + "/outputs?unspent=yes": "unspent:",
		"/api/v1/addresses/" + ed(1).Bech32("watt") + "/outputs?limit=0":     "limit:",
		"/api/v1/tags/0xzz/blocks":                                           "tag:",
		"/api/v1/tags/" + strings.Repeat("a", 65) + "/blocks":                "tag:",
		"/api/v1/tags/x/blocks?from=-1":                                      "from:",
		"/api/v1/tags/x/blocks?after=zz":                                     "after:",
		"/api/v1/blocks/0x1234":                                              "blockId:",
		"/api/v1/outputs/0x12":                                               "outputId:",
		"/api/v1/stream?address=nope":                                        "address:",
	} {
		code, body := f.get(t, path)
		var e struct {
			Error string `json:"error"`
		}
		if code != 400 || json.Unmarshal([]byte(body), &e) != nil || !strings.HasPrefix(e.Error, field) || strings.Contains(e.Error, "\n") {
			t.Errorf("%s: %d %s (want 400 naming %s)", path, code, body, field)
		}
	}
	if code, _ := f.get(t, "/api/v1/milestones/99"); code != 404 {
		t.Errorf("unknown milestone: %d", code)
	}
	res, err := http.Post(f.srv.URL+"/api/v1/milestones/4", "application/json", nil)
	if err != nil || res.StatusCode != 405 {
		t.Errorf("POST must be refused: %v %v", res.StatusCode, err)
	}
}

func TestAPITokenGuardsEveryAPIRouteButHealth(t *testing.T) {
	f := newAPIFixture(t, "s3cret")
	if code, _ := f.get(t, "/api/v1/milestones/4"); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	if code, _ := f.get(t, "/api/v1/milestones/4", "Authorization", "Bearer wrong"); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}
	if code, _ := f.get(t, "/api/v1/milestones/4", "Authorization", "Bearer s3cret"); code != 200 {
		t.Fatalf("right token: %d", code)
	}
	if code, _ := f.get(t, "/health"); code != 200 {
		t.Fatalf("health stays open: %d", code)
	}
}

func TestStreamDeliversFilteredEvents(t *testing.T) {
	f := newAPIFixture(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/api/v1/stream?address="+f.payee.Bech32("watt"), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %s", res.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(res.Body)
	lines.Scan() // ": connected"

	other := created(outID(50, 0), 5, owned(ed(9), 1))
	mine := created(outID(51, 0), 5, owned(f.payee, 2))
	blk := &TaggedBlock{BlockID: (iotago.BlockID{7}).ToHex(), MilestoneIndex: 5, tag: []byte("tanglewatt/pay/v1")}
	f.events.publishMilestone(&MilestoneUpdate{Summary: milestone(5), Created: []LedgerOutput{other, mine}, Blocks: []*TaggedBlock{blk}}, "watt")

	var names []string
	var outputData string
	for lines.Scan() && len(names) < 2 {
		line := lines.Text()
		if name, ok := strings.CutPrefix(line, "event: "); ok {
			names = append(names, name)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok && len(names) == 1 {
			outputData = data
		}
	}
	// only the payee's output and the milestone; the other output and the block are filtered out.
	if strings.Join(names, ",") != "output,milestone" {
		t.Fatalf("events = %v", names)
	}
	var out outputBody
	if err := json.Unmarshal([]byte(outputData), &out); err != nil || out.Change != "created" || out.Metadata.OutputID != mine.ID.ToHex() {
		t.Fatalf("output event = %s", outputData)
	}
	if len(out.Addresses) != 1 || out.Addresses[0].Address != f.payee.Bech32("watt") {
		t.Fatalf("output event addresses = %+v", out.Addresses)
	}
}

func TestFilterMatches(t *testing.T) {
	addr := keyOf(ed(1))
	out := &event{name: "output", addresses: []addressKey{addr}}
	tagged := &event{name: "tagged-data", tag: []byte("tw/ch/v1/abc")}
	ms := &event{name: "milestone"}
	cases := []struct {
		f    filter
		want [3]bool
	}{
		{filter{}, [3]bool{true, true, true}},
		{filter{address: &addr}, [3]bool{true, false, true}},
		{filter{tag: []byte("tw/ch/")}, [3]bool{false, true, true}},
		{filter{tag: []byte("tanglewatt/")}, [3]bool{false, false, true}},
	}
	for i, c := range cases {
		got := [3]bool{c.f.matches(out), c.f.matches(tagged), c.f.matches(ms)}
		if got != c.want {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
}
