package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// /health and /milestones/{index}.

type healthBody struct {
	Status                 string `json:"status"`
	Connected              bool   `json:"connected"`
	Network                string `json:"network,omitempty"`
	IndexedMilestone       uint32 `json:"indexedMilestone"`
	NodeConfirmedMilestone uint32 `json:"nodeConfirmedMilestone"`
	NodePruningIndex       uint32 `json:"nodePruningIndex"`
	Gaps                   []Gap  `json:"gaps"`
}

// health answers 200 while the node is connected, 503 otherwise; stored data
// stays readable either way.
func (a *api) health(w http.ResponseWriter, _ *http.Request) {
	cursor, _, err := a.store.Cursor()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store: "+oneLine(err))
		return
	}
	gaps, err := a.store.Gaps()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store: "+oneLine(err))
		return
	}
	node := a.node.snapshot()
	body := healthBody{Status: "ok", Connected: node.Connected, Network: node.HRP, IndexedMilestone: cursor,
		NodeConfirmedMilestone: node.Confirmed, NodePruningIndex: node.PruningIndex, Gaps: gaps}
	code := http.StatusOK
	if !node.Connected {
		body.Status, code = "disconnected", http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}

func (a *api) milestone(w http.ResponseWriter, raw string) error {
	index, err := strconv.ParseUint(raw, 10, 32)
	if err != nil || index == 0 {
		return badf("index: %q is not a milestone index (1 to 4294967295)", raw)
	}
	m, err := a.store.Milestone(uint32(index))
	if errors.Is(err, errNotFound) {
		return fmt.Errorf("milestone %d is not indexed: %w", index, errNotFound)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)

	return nil
}
