package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/dataaccess"
	"github.com/sightline/sightline/internal/server"
)

// Environment variables holding Data Access API credentials: `keys add`
// prints them, `pull` reads them.
const (
	envConsumerKey    = "SIGHTLINE_OAUTH_CONSUMER_KEY"
	envConsumerSecret = "SIGHTLINE_OAUTH_CONSUMER_SECRET"
	envToken          = "SIGHTLINE_OAUTH_TOKEN"
	envTokenSecret    = "SIGHTLINE_OAUTH_TOKEN_SECRET"
)

// runKeysAdd creates a Data Access API key for an existing account and
// prints its credentials on stdout as environment assignments, ready for
// `sightline pull`; where they are stored goes to stderr.
func runKeysAdd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys add", stderr)
	data := dataDirFlag(fs)
	acct := fs.String("account", "", "account the key gives access to (required)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("keys add: unexpected argument %q", pos[0])
	}
	if *acct == "" {
		return errors.New("keys add: missing --account")
	}
	accounts, err := account.OpenStore(nil, server.AccountsDir(*data))
	if err != nil {
		return err
	}
	if _, ok := accounts.Get(*acct); !ok {
		return fmt.Errorf("keys add: no account %q in %s", *acct, *data)
	}
	keys, err := dataaccess.OpenKeys(nil, dataaccess.KeysDir(*data))
	if err != nil {
		return err
	}
	k, err := keys.Add(*acct)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s=%s\n%s=%s\n%s=%s\n%s=%s\n",
		envConsumerKey, k.ConsumerKey, envConsumerSecret, k.ConsumerSecret,
		envToken, k.AccessToken, envTokenSecret, k.TokenSecret)
	fmt.Fprintf(stderr, "added key %s for account %s; its secrets are stored in %s (mode 0600)\n", k.ConsumerKey, k.Account, keys.Path(k.ConsumerKey))
	return nil
}

// runKeysList lists keys without their secrets.
func runKeysList(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys list", stderr)
	data := dataDirFlag(fs)
	acct := fs.String("account", "", "list only this account's keys")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("keys list: unexpected argument %q", pos[0])
	}
	keys, err := dataaccess.OpenKeys(nil, dataaccess.KeysDir(*data))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER KEY\tACCOUNT\tCREATED")
	for _, k := range keys.List(*acct) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.ConsumerKey, k.Account, k.Created.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// runKeysRemove deletes a key; a running server refuses it within a second.
func runKeysRemove(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys remove", stderr)
	data := dataDirFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := oneArgument("keys remove", "consumer key", pos); err != nil {
		return err
	}
	keys, err := dataaccess.OpenKeys(nil, dataaccess.KeysDir(*data))
	if err != nil {
		return err
	}
	k, _ := keys.Get(pos[0])
	if err := keys.Remove(pos[0]); err != nil {
		return fmt.Errorf("keys remove: %w", err)
	}
	fmt.Fprintf(stdout, "removed key %s of account %s\n", pos[0], k.Account)
	return nil
}
