package directory

import (
	"context"
	"fmt"

	"preau/db"
	"preau/identity"
)

// Service is the team a staff member works in within a structure, as a
// stable code (roles.service, migration 0009). Function stays the job
// title as written ("CPE", "Conseillère principale d'éducation", "AED"…),
// which imports spell in many ways: rules that depend on the team — the vie
// scolaire moderates the class channels and receives reports — read the
// service, and fall back to the title only while the service is unset
// (ServiceUnknown, as for imported data).
type Service string

// Services of a staff role; the values are stored.
const (
	ServiceUnknown     Service = ""             // not recorded: rules fall back to the title
	ServiceVieScolaire Service = "vie_scolaire" // CPE, assistants d'éducation
	ServiceOther       Service = "autre"        // any other team (CDI, secrétariat…)
)

// Valid reports whether s is a known service.
func (s Service) Valid() bool {
	return s == ServiceUnknown || s == ServiceVieScolaire || s == ServiceOther
}

// SetService records the service of the person's staff role in the
// structure; ErrNotFound when they hold no staff role there.
func SetService(ctx context.Context, q db.Querier, userID, structureID int64, s Service) error {
	if !s.Valid() {
		return fmt.Errorf("%w: service %q", ErrInvalid, s)
	}
	res, err := q.Exec(ctx, "UPDATE roles SET service = ? WHERE user_id = ? AND structure_id = ? AND profile = ?",
		string(s), userID, structureID, string(identity.Staff))
	if err != nil {
		return fmt.Errorf("directory: set service: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
