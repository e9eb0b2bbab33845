package main

import (
	"bytes"
	"encoding/json"
	"sync"

	iotago "github.com/iotaledger/iota.go/v3"
)

// subscriberBuffer is how many events a slow stream reader may fall behind
// before it is disconnected (it reconnects and catches up over REST).
const subscriberBuffer = 1024

// event is one server-sent event with what filters match it.
type event struct {
	name      string // milestone, output or tagged-data
	data      []byte
	addresses []addressKey // output events
	tag       []byte       // tagged-data events
}

// filter selects events for one stream. With neither field set a stream gets
// everything; otherwise output events need the address and tagged-data events
// the tag prefix. Milestone events always pass: they tell readers how far the
// index has got.
type filter struct {
	address *addressKey
	tag     []byte
}

func (f filter) matches(e *event) bool {
	if f.address == nil && f.tag == nil {
		return true
	}
	switch e.name {
	case "output":
		if f.address == nil {
			return false
		}
		for _, a := range e.addresses {
			if a == *f.address {
				return true
			}
		}

		return false
	case "tagged-data":
		return f.tag != nil && bytes.HasPrefix(e.tag, f.tag)
	default:
		return true
	}
}

type subscriber struct {
	filter filter
	ch     chan *event
}

// broker fans indexed changes out to live streams. Events are published only
// after their milestone is committed, so a reader never sees something the
// REST API would not also return.
type broker struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

func newBroker() *broker { return &broker{subs: map[*subscriber]struct{}{}} }

func (b *broker) subscribe(f filter) *subscriber {
	s := &subscriber{filter: f, ch: make(chan *event, subscriberBuffer)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()

	return s
}

func (b *broker) unsubscribe(s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.ch)
	}
}

func (b *broker) publish(e *event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if !s.filter.matches(e) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			// too slow: drop it rather than hold up indexing.
			delete(b.subs, s)
			close(s.ch)
		}
	}
}

// publishMilestone emits a committed milestone's events: its outputs, its
// tagged-data blocks, then the milestone itself.
func (b *broker) publishMilestone(u *MilestoneUpdate, hrp iotago.NetworkPrefix) {
	b.mu.Lock()
	idle := len(b.subs) == 0
	b.mu.Unlock()
	if idle {
		return
	}
	for i := range u.Created {
		b.publish(outputEvent("created", &u.Created[i], nil, hrp))
	}
	for i := range u.Consumed {
		c := &u.Consumed[i]
		spent := &Spent{TransactionID: c.TransactionIDSpent.ToHex(), MilestoneIndex: c.MilestoneIndexSpent, MilestoneTimestamp: c.MilestoneTimestampSpent}
		b.publish(outputEvent("spent", &c.LedgerOutput, spent, hrp))
	}
	for _, blk := range u.Blocks {
		meta := *blk
		meta.Block = nil
		data, _ := json.Marshal(&meta)
		b.publish(&event{name: "tagged-data", data: data, tag: blk.tag})
	}
	data, _ := json.Marshal(&u.Summary)
	b.publish(&event{name: "milestone", data: data})
}

func outputEvent(change string, lo *LedgerOutput, spent *Spent, hrp iotago.NetworkPrefix) *event {
	// The same output was just stored with outputRecordOf, so it marshals.
	rec, _ := outputRecordOf(lo, spent)
	roles := outputRoles(lo.Output)
	body := outputJSONBody(rec, 0)
	body.Change = change
	e := &event{name: "output"}
	for addr, role := range roles {
		e.addresses = append(e.addresses, addr)
		body.Addresses = append(body.Addresses, addressRoles{Address: bech32Of(addr, hrp), Roles: role.Names()})
	}
	e.data, _ = json.Marshal(body)

	return e
}
