// Package files is the Documents module: spaces (each person's own, one per
// class, one hand-in space per assignment), folders and files, versions,
// the bin, shares, quotas and resumable uploads. Metadata lives in the
// database (migration 0004_files.sql); contents live in a storage.Store under
// keys the server makes ("v/<random hex>"), never under a user's file name.
//
// Every method takes the caller's identity.Principal and checks it against
// the policy (identity.File, identity.Assignment) and the shares; an object
// outside the caller's reach is ErrNotFound, as if it did not exist.
// docs/files.md describes the model, the rules and the limits.
package files
