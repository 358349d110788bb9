package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// loadOptions are the harness's flags.
type loadOptions struct {
	rounds   int
	duration string
	only     string
}

// result is a row's outcome: its rounds, or why it has none.
type result struct {
	row
	skipped string
	rounds  []wrkResult
	notes   map[string]string // what the server reported (session_cache)
}

// median is the median of the rounds' requests per second.
func (r *result) median() float64 {
	rps := make([]float64, len(r.rounds))
	for i, w := range r.rounds {
		rps[i] = w.rps
	}
	slices.Sort(rps)
	if n := len(rps); n%2 == 1 {
		return rps[n/2]
	} else if n > 0 {
		return (rps[n/2-1] + rps[n/2]) / 2
	}
	return 0
}

// runLoad starts every server, runs wrk against each in turn for each
// round, stops them, deletes what they stored, and prints the table.
func runLoad(o loadOptions) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	wrk, err := ensureWrk(ctx)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "latch-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "tokens.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o600); err != nil {
		return err
	}
	b := backendsFromEnv()
	began := time.Now()

	// started are every server started, to stop and clean up; ready are
	// those that answered as they should, with their rows.
	type entry struct {
		s   *running
		res *result
	}
	var (
		results []*result
		started []*running
		ready   []entry
	)
	defer func() {
		for _, s := range started {
			s.stop()
			if s.cleanup != nil {
				// ctx may be done: the cleanup gets time of its own.
				cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				if err := s.cleanup(cctx); err != nil {
					fmt.Fprintf(os.Stderr, "loadtest: cleaning up: %v\n", err)
				}
				cancel()
			}
		}
	}()
	for _, r := range selected(rows(), o.only) {
		res := &result{row: r}
		results = append(results, res)
		if res.skipped = b.missing(r.store); res.skipped == "" && r.server == "flask" {
			res.skipped = flaskMissing(ctx)
		}
		if res.skipped != "" {
			fmt.Fprintf(os.Stderr, "loadtest: %s: skipped: %s\n", r.name, res.skipped)
			continue
		}
		fmt.Fprintf(os.Stderr, "loadtest: %s: starting, %d tokens\n", r.name, tokenCount)
		s, err := start(ctx, r, b, dir)
		if s != nil {
			started = append(started, s)
		}
		if err == nil {
			var tok string
			if tok, err = firstToken(s.tokens); err == nil {
				err = check(ctx, s.addr, tok, r.server != "bare")
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintf(os.Stderr, "loadtest: %s: %v\n", r.name, err)
			res.skipped = "did not start: " + firstLine(err.Error())
			continue
		}
		res.notes = s.notes
		ready = append(ready, entry{s, res})
	}

	fmt.Fprintln(os.Stderr, "loadtest: warming up, 1s each")
	for _, e := range ready {
		if _, err := runWrk(ctx, wrk, script, e.s.addr, e.s.tokens, "1s"); err != nil {
			return fmt.Errorf("%s: %w", e.res.name, err)
		}
	}
	for round := range o.rounds {
		// Each round starts one server later, so that no server always
		// runs right after the same neighbour.
		for k := range ready {
			e := ready[(k+round)%len(ready)]
			if err := useEvery(ctx, e.s.addr, e.s.tokens); err != nil {
				return fmt.Errorf("%s: %w", e.res.name, err)
			}
			w, err := runWrk(ctx, wrk, script, e.s.addr, e.s.tokens, o.duration)
			if err != nil {
				return fmt.Errorf("%s: %w", e.res.name, err)
			}
			e.res.rounds = append(e.res.rounds, w)
			fmt.Fprintf(os.Stderr, "loadtest: round %d: %s: %.0f req/s\n", round+1, e.res.name, w.rps)
		}
	}
	printTable(os.Stdout, results, o, began)
	return nil
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// printTable writes the markdown table with each target's verdict, then
// the notes: skipped rows, errors, the session cache's state.
func printTable(w io.Writer, results []*result, o loadOptions, began time.Time) {
	by := map[string]*result{}
	for _, r := range results {
		by[r.name] = r
	}
	bare := 0.0
	if r := by["bare"]; r != nil && len(r.rounds) > 0 {
		bare = r.median()
	}
	fmt.Fprintf(w, "`wrk -t1 -c32 -d%s`, GET /protected, medians of %d rounds, %d tokens per server; started %s\n\n",
		o.duration, o.rounds, tokenCount, began.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintln(w, "| server | req/s | × bare | target | rounds (req/s) |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	var notes []string
	for _, r := range results {
		if r.skipped != "" {
			fmt.Fprintf(w, "| %s | skipped | | %s | |\n", r.label, targetText(r.row))
			notes = append(notes, fmt.Sprintf("%s: skipped: %s", r.name, r.skipped))
			continue
		}
		m := r.median()
		ratio := "—"
		if bare > 0 {
			ratio = fmt.Sprintf("%.2f", m/bare)
		}
		var each []string
		for _, x := range r.rounds {
			each = append(each, kilo(x.rps))
			if x.non2xx > 0 {
				notes = append(notes, fmt.Sprintf("%s: %d answers not 2xx/3xx in one round: its figure is not of successful requests", r.name, x.non2xx))
			}
			if x.errors != "" {
				notes = append(notes, fmt.Sprintf("%s: wrk: %s", r.name, x.errors))
			}
		}
		target := targetText(r.row)
		if target != "" {
			target += ": " + verdict(r, by, bare)
		}
		if r.cache {
			if c := r.notes["session_cache"]; c != sessionCacheSetting {
				target += fmt.Sprintf(" (session cache %s in this latch: ran uncached)", c)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.label, kilo(m), ratio, target, strings.Join(each, ", "))
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range slices.Compact(notes) {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

// targetText says a row's target, "" for none.
func targetText(r row) string {
	if r.minRatio == 0 {
		return ""
	}
	t := fmt.Sprintf("≥ %.2f× bare", r.minRatio)
	if len(r.ahead) > 0 {
		t += " and ahead of " + strings.Join(r.ahead, ", ")
	}
	return t
}

// verdict is PASS, FAIL, or why there is none.
func verdict(r *result, by map[string]*result, bare float64) string {
	if bare == 0 {
		return "n/a (no bare figure)"
	}
	m := r.median()
	pass := m >= r.minRatio*bare
	for _, name := range r.ahead {
		o := by[name]
		if o == nil || len(o.rounds) == 0 {
			return "n/a (" + name + " not measured)"
		}
		pass = pass && m > o.median()
	}
	if pass {
		return "**PASS**"
	}
	return "**FAIL**"
}

// kilo writes requests per second in thousands, one decimal.
func kilo(rps float64) string { return fmt.Sprintf("%.1fk", rps/1000) }

// useEvery sends one request with each of the server's tokens, untimed,
// 32 at a time, before a round: the rounds of one server are about a
// minute apart, and without it each would begin with every session's
// once-a-minute work at once (latch writing its last use, touch_interval;
// a session cache reading it again, session_cache), which a steady load
// spreads over the minute. The round then measures that steady state.
func useEvery(ctx context.Context, addr, tokensPath string) error {
	b, err := os.ReadFile(tokensPath)
	if err != nil {
		return err
	}
	toks := strings.Fields(string(b))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	defer client.CloseIdleConnections()
	next := make(chan string)
	errs := make(chan error, 32)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for tok := range next {
				req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/protected", nil)
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Authorization", "Bearer "+tok)
				r, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
		})
	}
	for _, tok := range toks {
		select {
		case next <- tok:
		case err := <-errs:
			close(next)
			wg.Wait()
			return err
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}
