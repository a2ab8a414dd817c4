package tag_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Chromium versions take a browser offline differently:
// Network.emulateNetworkConditions, deprecated but still there in 156, is
// what Chromium 148 (Debian's lately) takes; Network.emulateNetworkConditionsByRule
// with Network.overrideNetworkState is today's protocol, which 148 rejects
// (its ByRule wanted offline as a parameter of its own). setOffline tries
// each in turn, so the tests run on whichever Chromium the project's script
// finds or installs.

// offlineWays are the ways setOffline tries, in order.
var offlineWays = []struct {
	name string
	set  func(ctx context.Context, off bool) error
}{
	{"emulateNetworkConditions", func(ctx context.Context, off bool) error {
		_, err := chromedp.Call(ctx, emulateNetworkConditions, legacyConditions{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}},
	{"emulateNetworkConditionsByRule", func(ctx context.Context, off bool) error {
		_, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}}})
		if err == nil {
			_, err = chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
				Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		}
		return err
	}},
}

// legacyConditions are the parameters of Network.emulateNetworkConditions,
// which cdproto no longer has.
type legacyConditions struct {
	Offline            bool    `json:"offline"`
	Latency            float64 `json:"latency"`
	DownloadThroughput float64 `json:"downloadThroughput"`
	UploadThroughput   float64 `json:"uploadThroughput"`
}

var emulateNetworkConditions = cdp.Command[legacyConditions, cdp.Empty]{Method: "Network.emulateNetworkConditions"}

// setOffline takes the page's browser offline, or back online, the first
// way the browser takes.
func setOffline(ctx context.Context, off bool) error {
	var errs []error
	for _, w := range offlineWays {
		err := w.set(ctx, off)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", w.name, err))
	}
	return fmt.Errorf("the browser takes no way of going offline: %w", errors.Join(errs...))
}

// TestOfflineWays checks each way of going offline that this Chromium
// takes: the page sees itself offline, then online again.
func TestOfflineWays(t *testing.T) {
	srv, dir := startServer(t)
	ctx, _ := openEmptyPage(t, srv.Addr(), dir)
	took := 0
	for _, w := range offlineWays {
		for _, off := range []bool{true, false} {
			if err := w.set(ctx, off); err != nil {
				t.Logf("%s: not taken by this Chromium: %v", w.name, err)
				break
			}
			online, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`navigator.onLine`))
			if err != nil || online == off {
				t.Errorf("%s(offline=%v): navigator.onLine is %v (%v)", w.name, off, online, err)
			}
			took++
		}
	}
	if took == 0 {
		t.Fatal("this Chromium takes no way of going offline")
	}
}
