package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

//go:embed flask/app.py
var flaskApp []byte

// The Debian packages of the seed system. Debian's python3 and gunicorn,
// by path: another python3 on PATH (pyenv, say) lacks their modules.
var (
	flaskPackages = []string{"python3-flask", "python3-python-flask-jwt-extended", "gunicorn"}
	debianPython  = "/usr/bin/python3"
	gunicorn      = "/usr/bin/gunicorn"
)

// flaskMissing says why the seed system cannot run, or "" when it can,
// installing its Debian packages first when they are missing and this is
// root.
func flaskMissing(ctx context.Context) string {
	have := func() bool {
		_, err := os.Stat(gunicorn)
		return err == nil && exec.CommandContext(ctx, debianPython, "-c", "import flask, flask_jwt_extended").Run() == nil
	}
	if have() {
		return ""
	}
	if os.Geteuid() != 0 {
		return "needs apt-get install -y " + strings.Join(flaskPackages, " ") + " (as root)"
	}
	fmt.Fprintln(os.Stderr, "loadtest: apt-get install -y", strings.Join(flaskPackages, " "))
	out, err := exec.CommandContext(ctx, "apt-get", append([]string{"install", "-y"}, flaskPackages...)...).CombinedOutput()
	if err != nil || !have() {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return fmt.Sprintf("apt-get install -y %s failed: %s", strings.Join(flaskPackages, " "), lines[len(lines)-1])
	}
	return ""
}

// startFlask mints the tokens with flask-jwt-extended and serves the seed
// system with gunicorn, two (sync) workers.
func startFlask(ctx context.Context, dir string) (*running, error) {
	app := filepath.Join(dir, "flask")
	if err := os.MkdirAll(app, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(app, "app.py"), flaskApp, 0o600); err != nil {
		return nil, err
	}
	s := &running{tokens: filepath.Join(dir, "flask.tokens"), log: filepath.Join(dir, "flask.log")}
	env := append(cleanEnv(), "LOAD_JWT_SECRET="+randomKey(), "PYTHONDONTWRITEBYTECODE=1")
	mint := exec.CommandContext(ctx, debianPython, "app.py", "mint", fmt.Sprint(tokenCount), s.tokens)
	mint.Dir, mint.Env = app, env
	if out, err := mint.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("minting flask-jwt-extended tokens: %v\n%s", err, out)
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(gunicorn, "--workers", "2", "--bind", addr, "--log-level", "warning", "app:app")
	cmd.Dir, cmd.Env = app, env
	return s, s.run(ctx, cmd, func(ctx context.Context) (string, error) {
		for {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				return addr, nil
			}
			select {
			case <-s.done:
				return "", errors.New("gunicorn exited")
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}
