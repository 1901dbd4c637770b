// Package fieldsync holds the API contract: openapi.yaml, the OpenAPI 3.1 description of every
// route the server answers, embedded so that tests (and, later, the server itself) read the very
// bytes that are published.
package fieldsync

import _ "embed"

// OpenAPI is the contents of openapi.yaml. Treat it as read-only.
//
//go:embed openapi.yaml
var OpenAPI []byte
