// Package eceapi is a small, hand-written client for the parts of the
// Elastic Cloud (ESS) and Elastic Cloud Enterprise (ECE) REST API that
// ece_exporter uses.
//
// It follows the shape of google/go-github: a Client with one service per
// API area, request/response structs named after the Swagger definitions in
// the official specification, one CheckResponse that turns every non-2xx
// answer into a typed error, and retries with capped, jittered backoff for
// idempotent requests.
//
// The package knows nothing about Prometheus. Callers that want metrics about
// the requests install an observer with WithObserver.
//
// Secrets (API keys, passwords, bearer tokens) are held sealed behind
// pointers that fmt prints as addresses (config hands them over from
// internal/secret's Secret, which prints as "<secret>"), are replaced by
// "<secret>" in error texts, and are only ever written into the Authorization header
// of requests sent to the configured hosts: the API's and, for the Cloud
// Billing API (v2, BillingV2Service), the billing host (WithBillingV2URL).
//
// Upgrades: the client can only ask for an upgrade dry run. The request always
// carries validate_only=true, and the transport refuses any _upgrade request
// that does not, so no code path in this package can upgrade a deployment.
package eceapi
