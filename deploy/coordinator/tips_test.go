package main

import (
	"context"
	"math/rand"
	"testing"
	"time"

	inx "github.com/iotaledger/inx/go"
	iotago "github.com/iotaledger/iota.go/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// tipPool answers RequestTips as HORNET 2.0.1 does (components/inx/server_tips.go, pkg/tipselect/urts.go):
// at most 4 distinct tips drawn at random from its non-lazy pool, whatever count is asked for, and
// codes.Unavailable when the pool is empty. The other INX calls are not used by gatherTips.
type tipPool struct {
	inx.INXClient
	pool     iotago.BlockIDs
	rng      *rand.Rand
	requests int
}

func (p *tipPool) RequestTips(_ context.Context, _ *inx.TipsRequest, _ ...grpc.CallOption) (*inx.TipsResponse, error) {
	p.requests++
	if len(p.pool) == 0 {
		return nil, status.Error(codes.Unavailable, "error selecting tips: no tips available")
	}
	seen := map[iotago.BlockID]bool{}
	var tips iotago.BlockIDs
	for i := 0; i < 40 && len(tips) < 4; i++ {
		tip := p.pool[p.rng.Intn(len(p.pool))]
		if !seen[tip] {
			seen[tip] = true
			tips = append(tips, tip)
		}
	}

	return &inx.TipsResponse{Tips: inx.NewBlockIds(tips)}, nil
}

func poolOf(n int) iotago.BlockIDs {
	ids := make(iotago.BlockIDs, n)
	for i := range ids {
		ids[i] = blockID(byte(i + 1))
	}

	return ids
}

func TestGatherTipsTakesMoreOfASmallPoolThanOneRequestGives(t *testing.T) {
	const runs = 1000
	all := 0
	for seed := int64(0); seed < runs; seed++ {
		pool := &tipPool{pool: poolOf(6), rng: rand.New(rand.NewSource(seed))}
		c := &coordinator{cfg: &config{tips: 7}, client: pool}
		tips, err := c.gatherTips(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if pool.requests > tipRequests {
			t.Fatalf("seed %d: %d requests, at most %d allowed", seed, pool.requests, tipRequests)
		}
		if len(tips) <= hornetTipsPerRequest || len(tips.RemoveDupsAndSort()) != len(tips) {
			t.Fatalf("seed %d: want more than %d distinct tips, got %v", seed, hornetTipsPerRequest, tips)
		}
		if len(tips) == 6 {
			all++
		}
	}
	// A given tip is left out of eight answers of four drawn from six with probability (1/3)^8.
	if all < runs*99/100 {
		t.Fatalf("every tip of the pool taken in only %d of %d milestones", all, runs)
	}
}

func TestGatherTipsStopsAtTheConfiguredCountWithDistinctTips(t *testing.T) {
	pool := &tipPool{pool: poolOf(30), rng: rand.New(rand.NewSource(1))}
	c := &coordinator{cfg: &config{tips: 7}, client: pool}
	tips, err := c.gatherTips(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tips) < 7 {
		t.Fatalf("want at least 7 tips, got %d", len(tips))
	}
	if len(tips.RemoveDupsAndSort()) != len(tips) {
		t.Fatalf("tips not distinct: %v", tips)
	}
	if pool.requests != 2 {
		t.Fatalf("7 tips take two requests of four from a large pool, took %d", pool.requests)
	}
}

func TestGatherTipsOnAnIdleNetworkReferencesNoTips(t *testing.T) {
	pool := &tipPool{rng: rand.New(rand.NewSource(1))}
	c := &coordinator{cfg: &config{tips: 7}, client: pool}
	tips, err := c.gatherTips(context.Background())
	if err != nil || len(tips) != 0 || pool.requests != 1 {
		t.Fatalf("want no tips, no error, one request; got %v, %v, %d", tips, err, pool.requests)
	}
}

func TestNextTickFallsJustAfterAWholeSecondForWholeSecondIntervals(t *testing.T) {
	// A tick at 10.750 whose timestamp needed no wait (second 10): the next is at 11.000, not 11.750, so
	// the milestone it makes has second 11 and references only blocks posted before it.
	started := time.Date(2026, 1, 1, 0, 0, 10, 750_000_000, time.UTC)
	issued := started.Add(2 * time.Millisecond)
	if got, want := nextTick(started, issued, time.Second), time.Date(2026, 1, 1, 0, 0, 11, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("want %v, got %v", want, got)
	}
	if got, want := nextTick(started, issued, 5*time.Second), time.Date(2026, 1, 1, 0, 0, 15, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("want %v, got %v", want, got)
	}
	// Its second is past this milestone's, so it never waits for the next second.
	if next := nextTick(started, issued, time.Second); next.Unix() <= issued.Unix() {
		t.Fatalf("next tick %v would wait", next)
	}
}

func TestNextTickForOtherIntervalsFollowsATimestampThatHadToWait(t *testing.T) {
	started := time.Date(2026, 1, 1, 0, 0, 10, 750_000_000, time.UTC)
	// The previous milestone had second 10: this one waited until 11.000.
	issued := time.Date(2026, 1, 1, 0, 0, 11, 0, time.UTC)
	interval := 1500 * time.Millisecond
	if got := nextTick(started, issued, interval); !got.Equal(issued.Add(interval)) {
		t.Fatalf("want %v, got %v", issued.Add(interval), got)
	}
	// Without a wait the schedule is an interval after the tick.
	if got := nextTick(started, started.Add(-time.Millisecond), interval); !got.Equal(started.Add(interval)) {
		t.Fatalf("got %v", got)
	}
	if got := nextTick(started, time.Time{}, time.Second); !got.Equal(started.Add(time.Second)) {
		t.Fatalf("got %v", got)
	}
}
