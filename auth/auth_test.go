package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
)

var cheap = Params{MemoryKiB: 8 * 1024, Passes: 1, Lanes: 1}

func TestHashVerifyAndRehash(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap)
	phc, err := h.Hash(ctx, "une phrase de passe")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=8192,t=1,p=1$") {
		t.Fatalf("PHC = %s", phc)
	}
	if ok, _, _ := h.Verify(ctx, phc, "une phrase de passe"); !ok {
		t.Fatal("right password refused")
	}
	if ok, _, _ := h.Verify(ctx, phc, "Une phrase de passe"); ok {
		t.Fatal("password compared case-insensitively")
	}
	// A stronger hasher asks for a re-hash of the cheap one.
	strong := NewHasher(Params{MemoryKiB: 16 * 1024, Passes: 2, Lanes: 1})
	if ok, rehash, _ := strong.Verify(ctx, phc, "une phrase de passe"); !ok || !rehash {
		t.Fatalf("ok=%v rehash=%v, want true true", ok, rehash)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=8192,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=1,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"} {
		if _, _, err := h.Verify(ctx, bad, "x"); err == nil {
			t.Errorf("Verify(%q) accepted", bad)
		}
	}
}

func TestDefaultParamsMeetPolicy(t *testing.T) {
	// SECURITY.md: at least 19 MiB / 2 passes / 1 lane.
	p := DefaultParams
	if p.MemoryKiB < 19*1024 || p.Passes < 2 || p.Lanes < 1 {
		t.Fatalf("DefaultParams %+v below 19 MiB / 2 passes", p)
	}
}

func TestHasherRefusesFlood(t *testing.T) {
	h := NewHasher(cheap)
	for i := 0; i < cap(h.slots); i++ {
		h.slots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("full hasher: err = %v, want ErrBusy", err)
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		pw    string
		adult bool
		ok    bool
	}{
		{"court", false, false},
		{"chat-vert-2", false, true},                                     // a pupil's 11-character passphrase
		{"chat-vert-2", true, false},                                     // too short for an adult
		{"le chat vert saute", true, true},                               // a passphrase
		{"azertyuiop123", true, false},                                   // common
		{"AZERTYUIOP123", true, false},                                   // common, any case
		{"aaaaaaaaaaaaaaa", true, false},                                 // repetitive
		{"léa martin 2026 !", true, false},                               // contains the user's name
		{strings.Repeat("x", 60) + strings.Repeat("y", 69), true, false}, // 129 > 128
		{"deux mots\x00cachés", true, false},
	}
	for _, tt := range tests {
		err := CheckPassword(tt.pw, tt.adult, "lea.martin", "Léa", "Martin")
		if (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%q, adult=%v) = %v, want ok=%v", tt.pw, tt.adult, err, tt.ok)
		}
		var pe *PolicyError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("error %v is not a PolicyError", err)
		}
	}
}

// The throttle's tests are in throttle_test.go: one contract, every engine.

// fixture makes a structure with one pupil account "lea.martin" in 3e A.
func fixture(t *testing.T, d *db.DB) (svc *Service, pupil directory.Person, classID int64) {
	t.Helper()
	ctx := context.Background()
	svc = NewService(d, Config{Params: cheap}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	err := d.InTx(ctx, func(tx *db.Tx) error {
		st, err := directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450001A", Name: "Collège Test", Kind: directory.College})
		if err != nil {
			return err
		}
		y, err := directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true))
		if err != nil {
			return err
		}
		classID, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: st, YearID: y, Name: "3e A"})
		if err != nil {
			return err
		}
		pupil, err = directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Léa", LastName: "Martin"})
		if err != nil {
			return err
		}
		return directory.Transfer(ctx, tx, pupil.ID, classID)
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, pupil, classID
}

func TestActivateLoginChangeReset(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc, pupil, _ := fixture(t, d)
		c := Client{IP: "192.0.2.1", UserAgent: "test"}

		// Not activated yet: login fails like a wrong password.
		if _, _, err := svc.Login(ctx, pupil.Login, "anything at all", c); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("login before activation: %v", err)
		}
		code, exp, err := IssueCode(ctx, d, pupil.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if time.Until(exp) > ActivationTTL {
			t.Fatalf("code valid until %v, more than 72 h", exp)
		}
		if _, _, err := svc.Activate(ctx, pupil.Login, "AAAA-BBBB-CCCC", "chat vert saute", c); !errors.Is(err, ErrBadCode) {
			t.Fatalf("wrong code: %v", err)
		}
		if _, _, err := svc.Activate(ctx, pupil.Login, code, "court", c); err == nil {
			t.Fatal("weak password accepted at activation")
		}
		// Codes are typed loosely from paper.
		tok, uid, err := svc.Activate(ctx, pupil.Login, strings.ToLower(strings.ReplaceAll(code, "-", " ")), "chat vert saute", c)
		if err != nil || uid != pupil.ID || tok == "" {
			t.Fatalf("activate: uid=%d err=%v", uid, err)
		}
		if _, _, err := svc.Activate(ctx, pupil.Login, code, "un autre mot de passe", c); !errors.Is(err, ErrBadCode) {
			t.Fatalf("code used twice: %v", err)
		}

		// Same answer for an unknown identifier and a wrong password.
		_, _, e1 := svc.Login(ctx, "personne.inconnue", "chat vert saute", c)
		_, _, e2 := svc.Login(ctx, pupil.Login, "mauvais mot de passe", c)
		if !errors.Is(e1, ErrBadCredentials) || !errors.Is(e2, ErrBadCredentials) {
			t.Fatalf("unknown: %v, wrong: %v", e1, e2)
		}
		tok2, _, err := svc.Login(ctx, " LEA.MARTIN ", "chat vert saute", c)
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		s2, err := svc.Sessions.Lookup(ctx, tok2)
		if err != nil || s2.UserID != pupil.ID {
			t.Fatalf("lookup: %+v %v", s2, err)
		}
		if list, _ := svc.Sessions.List(ctx, pupil.ID); len(list) != 2 {
			t.Fatalf("%d sessions listed, want 2", len(list))
		}

		// Changing the password ends the other sessions, keeps this one.
		if err := svc.ChangePassword(ctx, pupil.ID, s2.ID, "faux", "nouvelle phrase secrète"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("change with wrong current: %v", err)
		}
		if err := svc.ChangePassword(ctx, pupil.ID, s2.ID, "chat vert saute", "nouvelle phrase secrète"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Sessions.Lookup(ctx, tok); !errors.Is(err, ErrNoSession) {
			t.Fatalf("other session survived a password change: %v", err)
		}
		if _, err := svc.Sessions.Lookup(ctx, tok2); err != nil {
			t.Fatalf("current session ended by password change: %v", err)
		}

		// Disabling ends every session at once and blocks login.
		if err := svc.SetDisabled(ctx, pupil.ID, 0, true); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Sessions.Lookup(ctx, tok2); !errors.Is(err, ErrNoSession) {
			t.Fatal("session of a disabled account still valid")
		}
		if _, _, err := svc.Login(ctx, pupil.Login, "nouvelle phrase secrète", Client{IP: "192.0.2.2"}); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("disabled login: %v", err)
		}
		svc.SetDisabled(ctx, pupil.ID, 0, false)

		// Reset by staff: old password dead, new code works.
		code2, _, err := svc.ResetAccess(ctx, pupil.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Login(ctx, pupil.Login, "nouvelle phrase secrète", Client{IP: "192.0.2.3"}); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("old password after reset: %v", err)
		}
		if _, _, err := svc.Activate(ctx, pupil.Login, code2, "encore une phrase", Client{IP: "192.0.2.3"}); err != nil {
			t.Fatalf("activate after reset: %v", err)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	svc, pupil, _ := fixture(t, d)
	now := time.Now()
	svc.Sessions.now = func() time.Time { return now }
	tok, err := svc.Sessions.Create(ctx, d, pupil.ID, "ua", "ip")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(29 * time.Minute)
	if _, err := svc.Sessions.Lookup(ctx, tok); err != nil {
		t.Fatalf("29 min idle: %v", err)
	}
	// Kept alive by use, a session still ends after 12 h.
	for i := 0; i < 24; i++ {
		now = now.Add(29 * time.Minute)
		svc.Sessions.Lookup(ctx, tok)
	}
	if _, err := svc.Sessions.Lookup(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Fatal("session alive after 12 h")
	}
	tok, _ = svc.Sessions.Create(ctx, d, pupil.ID, "ua", "ip")
	now = now.Add(31 * time.Minute)
	if _, err := svc.Sessions.Lookup(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Fatal("session alive after 31 min idle")
	}
}

// TestAccountFollowsPupil: moving a pupil from the collège to a lycée, into a
// new school year, keeps the same account, password, and roles follow.
func TestAccountFollowsPupil(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc, pupil, oldClass := fixture(t, d)
		code, _, _ := IssueCode(ctx, d, pupil.ID, 0, 0)
		if _, _, err := svc.Activate(ctx, pupil.Login, code, "ma phrase de passe", Client{IP: "192.0.2.9"}); err != nil {
			t.Fatal(err)
		}
		var parent directory.Person
		var lyceeID, newClass int64
		err := d.InTx(ctx, func(tx *db.Tx) (err error) {
			parent, err = directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Sophie", LastName: "Martin"})
			if err != nil {
				return err
			}
			if err := directory.LinkGuardian(ctx, tx, parent.ID, pupil.ID, "Mère"); err != nil {
				return err
			}
			if err := directory.AddRole(ctx, tx, parent.ID, 1, identity.Parent, ""); err != nil {
				return err
			}
			lyceeID, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450002B", Name: "Lycée Test", Kind: directory.Lycee})
			if err != nil {
				return err
			}
			y, err := directory.EnsureYear(ctx, tx, directory.YearFor("2027-2028", true))
			if err != nil {
				return err
			}
			newClass, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: lyceeID, YearID: y, Name: "2nde 1"})
			if err != nil {
				return err
			}
			return directory.Transfer(ctx, tx, pupil.ID, newClass)
		})
		if err != nil {
			t.Fatal(err)
		}
		_, uid, err := svc.Login(ctx, pupil.Login, "ma phrase de passe", Client{IP: "192.0.2.10"})
		if err != nil || uid != pupil.ID {
			t.Fatalf("login after the move: uid=%d (want %d) err=%v", uid, pupil.ID, err)
		}
		pr, err := svc.Principal(ctx, pupil.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !pr.InStructure(identity.Pupil, lyceeID) || pr.InStructure(identity.Pupil, 1) {
			t.Fatalf("roles after the move: %+v", pr.Roles)
		}
		if len(pr.Classes) != 1 || pr.Classes[0] != newClass {
			t.Fatalf("current classes %v, want [%d]", pr.Classes, newClass)
		}
		// The collège year stays as history.
		var n int
		d.QueryRow(ctx, "SELECT COUNT(*) FROM enrolments WHERE user_id = ? AND class_id = ?", pupil.ID, oldClass).Scan(&n)
		if n != 1 {
			t.Fatal("the collège enrolment was lost")
		}
		// The guardian follows to the lycée and keeps the child.
		ppr, _ := svc.Principal(ctx, parent.ID)
		if !ppr.InStructure(identity.Parent, lyceeID) || !ppr.IsParentOf(pupil.ID) {
			t.Fatalf("parent after the move: %+v", ppr)
		}
		var users int
		d.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&users)
		if users != 2 {
			t.Fatalf("%d accounts, want 2: the move created an account", users)
		}
	})
}

func TestSecondFactor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc, p, _ := fixture(t, d)
		c := Client{IP: "192.0.2.20"}
		code, _, _ := IssueCode(ctx, d, p.ID, 0, 0)
		if _, _, err := svc.Activate(ctx, p.Login, code, "phrase de passe du cpe", c); err != nil {
			t.Fatal(err)
		}
		setup, err := svc.BeginTOTP(ctx, p.ID)
		if err != nil || setup.Secret == "" || !strings.HasPrefix(setup.QR, "data:image/png;base64,") ||
			!strings.HasPrefix(setup.URL, "otpauth://totp/") {
			t.Fatalf("setup %+v %v", setup, err)
		}
		// Pending until confirmed: login needs no code yet.
		if _, _, err := svc.Login(ctx, p.Login, "phrase de passe du cpe", c); err != nil {
			t.Fatalf("login with a pending second factor: %v", err)
		}
		if err := svc.ConfirmTOTP(ctx, p.ID, "000000"); !errors.Is(err, ErrBadTOTP) {
			t.Fatalf("confirm with a wrong code: %v", err)
		}
		now := time.Now()
		prev := codeAt(t, setup.Secret, now.Add(-30*time.Second))
		if err := svc.ConfirmTOTP(ctx, p.ID, prev); err != nil {
			t.Fatalf("confirm: %v", err)
		}
		_, _, err = svc.Login(ctx, p.Login, "phrase de passe du cpe", c)
		var sf *SecondFactorError
		if !errors.As(err, &sf) || sf.Challenge == "" {
			t.Fatalf("login with a second factor: %v, want SecondFactorError", err)
		}
		if _, _, err := svc.SecondFactor(ctx, sf.Challenge, "123456", c); !errors.Is(err, ErrBadTOTP) {
			t.Fatalf("wrong code: %v", err)
		}
		// The code used to confirm cannot be replayed.
		if _, _, err := svc.SecondFactor(ctx, sf.Challenge, prev, c); !errors.Is(err, ErrBadTOTP) {
			t.Fatalf("replayed code: %v", err)
		}
		cur := codeAt(t, setup.Secret, now)
		tok, uid, err := svc.SecondFactor(ctx, sf.Challenge, cur, c)
		if err != nil || uid != p.ID || tok == "" {
			t.Fatalf("second factor: %v", err)
		}
		// A challenge is single-use.
		if _, _, err := svc.SecondFactor(ctx, sf.Challenge, codeAt(t, setup.Secret, now.Add(30*time.Second)), c); !errors.Is(err, ErrBadTOTP) {
			t.Fatalf("challenge reused: %v", err)
		}
		// Five wrong tries spend a challenge.
		_, _, err = svc.Login(ctx, p.Login, "phrase de passe du cpe", c)
		errors.As(err, &sf)
		for i := 0; i < 5; i++ {
			svc.SecondFactor(ctx, sf.Challenge, "000000", c)
		}
		if _, _, err := svc.SecondFactor(ctx, sf.Challenge, codeAt(t, setup.Secret, now.Add(30*time.Second)), c); !errors.Is(err, ErrBadTOTP) {
			t.Fatalf("challenge alive after 5 wrong codes: %v", err)
		}
		if err := svc.DisableTOTP(ctx, p.ID, "pas le bon"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("disable with a wrong password: %v", err)
		}
		if err := svc.DisableTOTP(ctx, p.ID, "phrase de passe du cpe"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Login(ctx, p.Login, "phrase de passe du cpe", c); err != nil {
			t.Fatalf("login after disabling the second factor: %v", err)
		}
	})
}

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
