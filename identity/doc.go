// Package identity holds who people are to Préau — profiles, roles in
// structures, the signed-in Principal — and the one access-policy table
// (profile × resource × action → scope) that every module consults.
//
// It has no web or database dependency, so every package may import it.
package identity
