package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/identity"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/websession"
)

func runAccountsAdd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("accounts add", stderr)
	data := dataDirFlag(fs)
	var origins stringList
	fs.Var(&origins, "origin", "page origin allowed to send events, scheme://host[:port], or * for any (repeatable)")
	shape := documentShapeFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := oneArgument("accounts add", "account ID", pos); err != nil {
		return err
	}
	id := pos[0]
	store, err := account.OpenStore(nil, server.AccountsDir(*data))
	if err != nil {
		return err
	}
	if err := store.Add(account.Account{ID: id, Origins: origins, DocumentShape: *shape}); err != nil {
		return err
	}
	a, _ := store.Get(id)
	fmt.Fprintf(stdout, "added account %s (origins: %s)\n", a.ID, originsText(a.Origins))
	return nil
}

// documentShapeFlag adds --document-shape.
func documentShapeFlag(fs *flag.FlagSet) *websession.Shape {
	shape := new(websession.Shape)
	fs.TextVar(shape, "document-shape", websession.Plain, "how the account's web-session documents are written and served: plain (as the Data Access API's example shows them) or wrapped (metaData and recordCollection as Avro-JSON unions, as the live service writes them and the Singer tap reads them)")
	return shape
}

// runAccountsSet changes an account's settings.
func runAccountsSet(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("accounts set", stderr)
	data := dataDirFlag(fs)
	shape := documentShapeFlag(fs)
	issuer := fs.String("visitor-issuer", "", "the iss of the JWTs that authenticate the account's visitors (with --visitor-keys)")
	keysFile := fs.String("visitor-keys", "", "file of the brand's public keys that sign those JWTs (RS256): a PEM public key or a JSON Web Key Set")
	noAuth := fs.Bool("no-visitor-auth", false, "authenticate no visitor of the account any more")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := oneArgument("accounts set", "account ID", pos); err != nil {
		return err
	}
	auth := *issuer != "" || *keysFile != ""
	if !flagSet(fs, "document-shape") && !auth && !*noAuth {
		return fmt.Errorf("accounts set: nothing to set (--document-shape, --visitor-issuer and --visitor-keys, --no-visitor-auth)")
	}
	if auth && (*issuer == "" || *keysFile == "") {
		return fmt.Errorf("accounts set: --visitor-issuer and --visitor-keys go together")
	}
	store, err := account.OpenStore(nil, server.AccountsDir(*data))
	if err != nil {
		return err
	}
	if flagSet(fs, "document-shape") {
		if err := store.SetDocumentShape(pos[0], *shape); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s: web-session documents are written %v from the next hour written (websessions build writes earlier hours again)\n", pos[0], *shape)
	}
	switch {
	case auth:
		b, err := os.ReadFile(*keysFile)
		if err != nil {
			return err
		}
		keys, err := identity.ParseKeys(b)
		if err != nil {
			return fmt.Errorf("--visitor-keys %s: %w", *keysFile, err)
		}
		if err := store.SetVisitorAuth(pos[0], &account.VisitorAuth{Issuer: *issuer, Keys: keys}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s: visitors are authenticated by JWTs of %s signed with the keys of %s\n", pos[0], *issuer, *keysFile)
	case *noAuth:
		if err := store.SetVisitorAuth(pos[0], nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s: no visitor is authenticated\n", pos[0])
	}
	return nil
}

func runAccountsList(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("accounts list", stderr)
	data := dataDirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := account.OpenStore(nil, server.AccountsDir(*data))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tORIGINS")
	for _, a := range store.List() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.ID, a.Created.UTC().Format(time.RFC3339), originsText(a.Origins))
	}
	return tw.Flush()
}

func originsText(o []string) string {
	if len(o) == 0 {
		return "none (servers only)"
	}
	return strings.Join(o, " ")
}
