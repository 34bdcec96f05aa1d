// Package web is Préau's site: the router, middleware (sessions, CSRF,
// security headers, limits), the French server-rendered pages, the JSON API
// under /api/v1 and its OpenAPI document, and the health and metrics
// endpoints. Domain packages never import web; web assembles them.
package web
