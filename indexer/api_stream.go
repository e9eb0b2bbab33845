package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// /stream: server-sent events of new outputs, spends and tagged blocks.

// stream serves server-sent events until the client goes away.
func (a *api) stream(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f filter
	if v := q.Get("address"); v != "" {
		addr, err := a.parseAddress("address", v)
		if err != nil {
			return err
		}
		f.address = &addr
	}
	if v := q.Get("tag"); v != "" {
		tag, err := parseTag("tag", v)
		if err != nil {
			return err
		}
		f.tag = tag
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return errors.New("streaming unsupported by the HTTP server")
	}
	sub := a.events.subscribe(f)
	defer a.events.unsubscribe(sub)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, ": connected\n\n")
	flusher.Flush()

	ticker := time.NewTicker(keepAlive)
	defer ticker.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-ticker.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			flusher.Flush()
		case e, open := <-sub.ch:
			if !open {
				_, _ = fmt.Fprint(w, "event: error\ndata: {\"error\":\"stream: the reader fell behind; reconnect and catch up over REST\"}\n\n")
				flusher.Flush()
				return nil
			}
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, e.data); err != nil {
				return nil
			}
			flusher.Flush()
		}
	}
}
