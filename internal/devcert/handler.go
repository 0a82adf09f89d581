package devcert

import (
	"net/http"
	"strconv"
)

// FingerprintPath is where web clients such as @moq/net look for the
// server's certificate hash, over plain HTTP on the server's port number.
const FingerprintPath = "/certificate.sha256"

// Handler serves the certificate's hex SHA-256 fingerprint at any path it
// is mounted on (mount it at FingerprintPath). Responses carry
// Access-Control-Allow-Origin: * so a page served from another origin can
// read them, and Cache-Control: no-store because a restarted server has a
// new certificate.
func (c *Cert) Handler() http.Handler {
	body := []byte(c.Fingerprint())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "*")
		switch r.Method {
		case http.MethodOptions:
			w.WriteHeader(http.StatusNoContent)
			return
		case http.MethodGet, http.MethodHead:
		default:
			h.Set("Allow", "GET, HEAD, OPTIONS")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}
