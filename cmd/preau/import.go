package main

import (
	"context"
	"errors"
)

// runImport is written by the import work in progress.
func runImport(ctx context.Context, args []string) error {
	return errors.New("import: not built yet")
}
