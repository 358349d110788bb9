package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"
)

const (
	pingTimeout = 2 * time.Second  // how long finding the engine may take
	expireAfter = 15 * time.Minute // a container stops on its own after this
)

// dockerEngine is the Docker engine of the environment.
type dockerEngine struct{ pool *dockertest.Pool }

// connect returns the engine DOCKER_HOST names (else the default socket)
// if it answers a ping within pingTimeout.
func connect() (engine, error) {
	p, err := dockertest.NewPool("")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if err := p.Client.PingWithContext(ctx); err != nil {
		return nil, err
	}
	return dockerEngine{pool: p}, nil
}

func (d dockerEngine) run(b backend) (id, addr string, err error) {
	repo, tag, _ := strings.Cut(b.image, ":")
	r, err := d.pool.RunWithOptions(&dockertest.RunOptions{
		Repository: repo,
		Tag:        tag,
		Env:        b.env,
		Labels:     map[string]string{"org.latchauth.dockerenv": "1"},
	}, func(hc *docker.HostConfig) {
		hc.AutoRemove = true
		hc.RestartPolicy = docker.RestartPolicy{Name: "no"}
	})
	if err != nil {
		return "", "", err
	}
	id = r.Container.ID
	if err := d.expire(id, b.stopSignal); err != nil {
		return id, "", fmt.Errorf("setting its expiry: %w", err)
	}
	if addr = r.GetHostPort(b.port); addr == "" {
		return id, "", fmt.Errorf("port %s not published", b.port)
	}
	return id, addr, nil
}

// expire has a process in the container send sig to the server (its PID 1)
// after expireAfter: the container then ends and, auto-removed, goes, even
// if stop never runs. (dockertest's Resource.Expire asks the engine to
// stop the container at once, with a grace period, and lives in this
// process, which exits after start.)
func (d dockerEngine) expire(id, sig string) error {
	x, err := d.pool.Client.CreateExec(docker.CreateExecOptions{
		Container: id,
		User:      "root",
		Cmd:       []string{"sh", "-c", fmt.Sprintf("sleep %d; kill -s %s 1", int(expireAfter/time.Second), sig)},
	})
	if err != nil {
		return err
	}
	return d.pool.Client.StartExec(x.ID, docker.StartExecOptions{Detach: true})
}

func (d dockerEngine) remove(id string) error {
	err := d.pool.Client.RemoveContainer(docker.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true})
	if _, gone := errors.AsType[*docker.NoSuchContainer](err); gone {
		return nil
	}
	return err
}
