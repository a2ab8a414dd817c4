package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/user"
)

// envAgentPassword holds the password `agents add` gives the agent.
const envAgentPassword = "SIGHTLINE_AGENT_PASSWORD"

// runAgentsAdd adds an agent (or bot) to an account: the user that
// LivePerson's agent SDK logs in as, with a password, API keys, or both.
func runAgentsAdd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("agents add", stderr)
	data := dataDirFlag(fs)
	acct := fs.String("account", "", "account of the agent (required)")
	login := fs.String("login", "", "the agent's login name, its username in the SDK (required)")
	var skills stringList
	fs.Var(&skills, "skill", "a skill the agent serves: conversations of its engagements ring the agent (repeatable)")
	maxChats := fs.Int("max-chats", 0, "the most conversations the agent is assigned at once (0: no limit)")
	bot := fs.Bool("bot", false, "the agent is a bot")
	nickname := fs.String("nickname", "", "the name visitors see (default: the login)")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	apiKeys := fs.Bool("api-keys", false, "create an API key set (appKey, secret, accessToken, accessTokenSecret), printed once; "+
		"no password then unless "+envAgentPassword+" or --password-stdin gives one")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("agents add: unexpected argument %q", pos[0])
	case *acct == "":
		return errors.New("agents add: missing --account")
	case *login == "":
		return errors.New("agents add: missing --login")
	case *maxChats < 0:
		return fmt.Errorf("agents add: --max-chats %d: must be 0 (no limit) or more", *maxChats)
	}
	accounts, err := account.OpenStore(nil, server.AccountsDir(*data))
	if err != nil {
		return err
	}
	if _, ok := accounts.Get(*acct); !ok {
		return fmt.Errorf("agents add: no account %q in %s", *acct, *data)
	}
	users, err := user.OpenStore(nil, server.UsersDir(*data))
	if err != nil {
		return err
	}
	if _, ok := users.ByLogin(*acct, *login); ok {
		return fmt.Errorf("agents add: account %s has an agent %q already", *acct, *login)
	}
	u := user.User{Login: *login, Nickname: *nickname, Skills: skills, MaxChats: *maxChats, Bot: *bot}
	if err := u.Validate(); err != nil {
		return fmt.Errorf("agents add: %w", err)
	}
	password, err := agentPassword(*login, *passwordStdin, !*apiKeys, stderr)
	if err != nil {
		return fmt.Errorf("agents add: %w", err)
	}
	if password != "" {
		if u.PasswordHash, err = user.HashPassword(password); err != nil {
			return fmt.Errorf("agents add: %w", err)
		}
	}
	var secrets user.Secrets
	if *apiKeys {
		var key user.Key
		secrets, key = user.NewKey()
		u.Keys = []user.Key{key}
	}
	u, err = users.Add(*acct, u)
	if err != nil {
		return fmt.Errorf("agents add: %w", err)
	}
	if *apiKeys {
		fmt.Fprintf(stdout, "appKey=%s\nsecret=%s\naccessToken=%s\naccessTokenSecret=%s\n",
			secrets.AppKey, secrets.Secret, secrets.AccessToken, secrets.AccessTokenSecret)
		fmt.Fprintln(stderr, "The API key set above is shown once: Sightline keeps only hashes of its secrets.")
	}
	info := stdout
	if *apiKeys {
		info = stderr // stdout has the keys alone
	}
	fmt.Fprintf(info, "added agent %s to account %s: user id %s, pid %s, skills %s\n", u.Login, *acct, u.ID, u.PID, skillsText(u.Skills))
	return nil
}

// agentPassword returns the password to give the agent: the first line
// of stdin with --password-stdin, else $SIGHTLINE_AGENT_PASSWORD, else,
// when required, one typed twice on the terminal.
func agentPassword(login string, fromStdin, required bool, stderr io.Writer) (string, error) {
	check := func(p string) (string, error) {
		if len(p) < user.MinPasswordLen || len(p) > user.MaxPasswordLen {
			return "", fmt.Errorf("password: %d bytes, must be %d to %d", len(p), user.MinPasswordLen, user.MaxPasswordLen)
		}
		return p, nil
	}
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(os.Stdin, user.MaxPasswordLen+2)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("cannot read the password from stdin: %w", err)
		}
		return check(strings.TrimRight(line, "\r\n"))
	}
	if p := os.Getenv(envAgentPassword); p != "" {
		return check(p)
	}
	if !required {
		return "", nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", fmt.Errorf("no password: set %s, pass --password-stdin, run on a terminal, or use --api-keys", envAgentPassword)
	}
	fmt.Fprintf(stderr, "Password for %s: ", login)
	p1, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("cannot read the password: %w", err)
	}
	fmt.Fprint(stderr, "Again: ")
	p2, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("cannot read the password: %w", err)
	}
	if string(p1) != string(p2) {
		return "", errors.New("the passwords differ")
	}
	return check(string(p1))
}

// runAgentsList lists an account's agents, without their secrets.
func runAgentsList(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("agents list", stderr)
	data := dataDirFlag(fs)
	acct := fs.String("account", "", "account whose agents to list (required)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("agents list: unexpected argument %q", pos[0])
	case *acct == "":
		return errors.New("agents list: missing --account")
	}
	users, err := user.OpenStore(nil, server.UsersDir(*data))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER ID\tLOGIN\tNICKNAME\tSKILLS\tMAX CHATS\tBOT\tSIGN-IN\tPID")
	for _, u := range users.List(*acct) {
		var signIn []string
		if u.PasswordHash != "" {
			signIn = append(signIn, "password")
		}
		if len(u.Keys) > 0 {
			signIn = append(signIn, fmt.Sprintf("%d API keys", len(u.Keys)))
		}
		maxChats := "no limit"
		if u.MaxChats > 0 {
			maxChats = fmt.Sprint(u.MaxChats)
		}
		nick := u.Nickname
		if nick == "" {
			nick = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\t%s\t%s\n", u.ID, u.Login, nick, skillsText(u.Skills), maxChats, u.Bot,
			strings.Join(signIn, ", "), u.PID)
	}
	return tw.Flush()
}

func skillsText(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}
