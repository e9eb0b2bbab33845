package main

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
	keepAlive    = 15 * time.Second
)

// api serves the store read-only over HTTP.
type api struct {
	store  *Store
	events *broker
	node   *nodeView
	// token, when set, is required as "Authorization: Bearer <token>" on /api/ routes.
	token string
}

// badRequest is a client error: one line naming the field and what is allowed.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return badRequest{fmt.Sprintf(format, args...)} }

func (a *api) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", a.get(a.health))
	mux.HandleFunc("/api/v1/", a.get(a.authorized(a.route)))

	return mux
}

func (a *api) get(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method: only GET is allowed, the indexer is read-only")
			return
		}
		next(w, r)
	}
}

func (a *api) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.token != "" {
			given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(given), []byte(a.token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="tanglewatt-indexer"`)
				writeError(w, http.StatusUnauthorized, "authorization: a valid bearer token is required")
				return
			}
		}
		next(w, r)
	}
}

// route dispatches /api/v1/... by hand: tags may contain slashes.
func (a *api) route(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/api/v1/")
	parts := strings.Split(path, "/")
	var err error
	switch {
	case len(parts) == 2 && parts[0] == "milestones":
		err = a.milestone(w, parts[1])
	case len(parts) == 3 && parts[0] == "addresses" && parts[2] == "outputs":
		err = a.addressOutputs(w, r, parts[1])
	case len(parts) == 2 && parts[0] == "outputs":
		err = a.output(w, parts[1])
	case len(parts) >= 3 && parts[0] == "tags" && parts[len(parts)-1] == "blocks":
		err = a.tagBlocks(w, r, strings.Join(parts[1:len(parts)-1], "/"))
	case len(parts) == 2 && parts[0] == "blocks":
		err = a.block(w, parts[1], false)
	case len(parts) == 3 && parts[0] == "blocks" && parts[2] == "metadata":
		err = a.block(w, parts[1], true)
	case len(parts) == 1 && parts[0] == "stream":
		err = a.stream(w, r)
	default:
		writeError(w, http.StatusNotFound, "path: no such route; see the indexer README for the API")
		return
	}
	var bad badRequest
	switch {
	case err == nil:
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, bad.msg)
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "store: "+oneLine(err))
	}
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
