// Package e2e holds the browser interoperability suite: a page bundled from
// the @moq/net web client (e2e/web) runs in headless Chromium and talks to a
// moqgo server over WebTransport, negotiating IETF draft-14.
//
// # Why a real browser
//
// The browser is the client most MoQ deployments serve, and its WebTransport
// stack has rules no Go client checks: certificate pinning accepts only short
// lived ECDSA certificates, the page's origin is checked, subprotocol
// negotiation decides which wire protocol @moq/net speaks. Only a real
// Chromium running the real client library exercises them.
//
// # How a test runs
//
// The test serves the page over HTTP on 127.0.0.1 and starts a moqt.Server
// (with internal/devcert's certificate, whose fingerprint is served at
// /certificate.sha256 over TCP on the server's port number, as @moq/net
// expects for an http:// URL). It launches Chromium on the page with the
// scenario in the query string. The page POSTs each step as JSON to /report
// (including its console output) and, where the Go side must act first,
// long-polls /wait. Chromium exits 0 whatever the page does, so the test
// judges only by what the page reports.
//
// The relay tests run a relay.Relay behind that server instead, as `moq
// relay` does, and meet the browser there with a Go publisher or a second
// browser (each browser a Chromium of its own on its own page server).
//
// `make e2e` installs the page's pinned dependencies (npm ci), bundles it
// with esbuild and runs the suite. A test skips, saying why, when Chromium
// or the bundle is missing and cannot be made.
package e2e
