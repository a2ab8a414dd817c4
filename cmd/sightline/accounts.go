package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/server"
)

func runAccountsAdd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("accounts add", stderr)
	data := dataDirFlag(fs)
	var origins stringList
	fs.Var(&origins, "origin", "page origin allowed to send events, scheme://host[:port], or * for any (repeatable)")
	// Accept the ID before or after the flags.
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("accounts add: unexpected argument %q", fs.Arg(0))
	}
	if id == "" {
		return errors.New("accounts add: missing account ID")
	}
	store, err := account.OpenStore(nil, server.AccountsDir(*data))
	if err != nil {
		return err
	}
	if err := store.Add(account.Account{ID: id, Origins: origins}); err != nil {
		return err
	}
	a, _ := store.Get(id)
	fmt.Fprintf(stdout, "added account %s (origins: %s)\n", a.ID, originsText(a.Origins))
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
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.ID, a.Created.Format("2006-01-02T15:04:05Z"), originsText(a.Origins))
	}
	return tw.Flush()
}

func originsText(o []string) string {
	if len(o) == 0 {
		return "none (servers only)"
	}
	return strings.Join(o, " ")
}
