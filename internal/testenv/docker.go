package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"
)

const (
	pingTimeout = 2 * time.Second  // how long Docker detection may take
	readyWait   = 2 * time.Minute  // how long a started server may take to answer
	expireAfter = 15 * time.Minute // containers stop on their own after this
	probeWait   = 3 * time.Second  // one readiness probe
)

// pool is a Docker engine that answered, and the containers this process
// started on it.
type pool struct {
	*dockertest.Pool

	mu      sync.Mutex
	started []*dockertest.Resource
}

var (
	dockerOnce sync.Once
	dockerP    *pool
	dockerErr  error
)

// dockerPool returns the Docker engine from the environment (DOCKER_HOST,
// else the default socket) if it answers a ping within pingTimeout.
func dockerPool() (*pool, error) {
	dockerOnce.Do(func() {
		p, err := dockertest.NewPool("")
		if err != nil {
			dockerErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
		defer cancel()
		if err := p.Client.PingWithContext(ctx); err != nil {
			dockerErr = err
			return
		}
		p.MaxWait = readyWait
		dockerP = &pool{Pool: p}
	})
	return dockerP, dockerErr
}

// Main runs m, removes the containers this process started, and exits
// with m's status. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	purge()
	os.Exit(code)
}

func purge() {
	if dockerP == nil {
		return
	}
	dockerP.mu.Lock()
	defer dockerP.mu.Unlock()
	for _, r := range dockerP.started {
		if err := dockerP.Purge(r); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: removing container %s: %v\n", r.Container.Name, err)
		}
	}
	dockerP.started = nil
}

// run starts image, exposing port, and waits until probe succeeds on the
// published address, which it returns.
func (p *pool) run(image string, env []string, port string, probe func(addr string) error) (string, error) {
	repo, tag, _ := strings.Cut(image, ":")
	r, err := p.RunWithOptions(&dockertest.RunOptions{
		Repository: repo,
		Tag:        tag,
		Env:        env,
		Labels:     map[string]string{"org.latchauth.testenv": "1"},
	}, func(hc *docker.HostConfig) {
		hc.AutoRemove = true
		hc.RestartPolicy = docker.RestartPolicy{Name: "no"}
	})
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	p.started = append(p.started, r)
	p.mu.Unlock()
	if err := r.Expire(uint(expireAfter / time.Second)); err != nil {
		return "", err
	}
	addr := r.GetHostPort(port)
	if addr == "" {
		return "", fmt.Errorf("port %s not published", port)
	}
	if err := p.Retry(func() error { return probe(addr) }); err != nil {
		return "", fmt.Errorf("%s not ready at %s: %w", image, addr, err)
	}
	return addr, nil
}

func startPostgres(p *pool, image string) (string, error) {
	addr, err := p.run(image,
		[]string{"POSTGRES_HOST_AUTH_METHOD=trust", "POSTGRES_DB=test"}, "5432/tcp", probePostgres)
	if err != nil {
		return "", err
	}
	return "postgres://postgres@" + addr + "/test?sslmode=disable", nil
}

func startMySQL(p *pool, image string) (string, error) {
	addr, err := p.run(image,
		[]string{"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1", "MARIADB_DATABASE=test"}, "3306/tcp", probeMySQL)
	if err != nil {
		return "", err
	}
	return "root@tcp(" + addr + ")/test", nil
}

func startRedis(p *pool, image string) (string, error) {
	return p.run(image, nil, "6379/tcp", probeRedis)
}

func startMongo(p *pool, image string) (string, error) {
	addr, err := p.run(image, nil, "27017/tcp", probeMongo)
	if err != nil {
		return "", err
	}
	return "mongodb://" + addr, nil
}

// exchange dials addr, writes req (if any) and returns the first n bytes
// of the answer.
func exchange(addr string, req []byte, n int) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, probeWait)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(probeWait)); err != nil {
		return nil, err
	}
	if len(req) > 0 {
		if _, err := c.Write(req); err != nil {
			return nil, err
		}
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(bufio.NewReader(c), buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// probePostgres sends an SSLRequest; a listening server answers 'S' or
// 'N'. The image's init server listens on no TCP port, so an answer means
// the final server is up.
func probePostgres(addr string) error {
	req := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), 80877103)
	b, err := exchange(addr, req, 1)
	if err != nil {
		return err
	}
	if b[0] != 'S' && b[0] != 'N' {
		return fmt.Errorf("unexpected answer %q to SSLRequest", b[0])
	}
	return nil
}

// probeMySQL reads the server's greeting: a 4-byte packet header, then
// protocol version 10.
func probeMySQL(addr string) error {
	b, err := exchange(addr, nil, 5)
	if err != nil {
		return err
	}
	if b[4] != 10 {
		return fmt.Errorf("unexpected greeting byte %#x", b[4])
	}
	return nil
}

// probeRedis sends PING and expects +PONG.
func probeRedis(addr string) error {
	b, err := exchange(addr, []byte("PING\r\n"), 5)
	if err != nil {
		return err
	}
	if string(b) != "+PONG" {
		return fmt.Errorf("unexpected answer %q to PING", b)
	}
	return nil
}

// probeMongo sends OP_MSG {ping: 1, $db: "admin"} and expects an OP_MSG
// answer.
func probeMongo(addr string) error {
	b, err := exchange(addr, mongoPing(), 16)
	if err != nil {
		return err
	}
	if op := binary.LittleEndian.Uint32(b[12:]); op != opMsg {
		return fmt.Errorf("unexpected opcode %d", op)
	}
	return nil
}

const opMsg = 2013

func mongoPing() []byte {
	var doc bytes.Buffer
	doc.Write([]byte{0, 0, 0, 0}) // length, set below
	doc.WriteByte(0x10)           // int32
	doc.WriteString("ping\x00")
	doc.Write(binary.LittleEndian.AppendUint32(nil, 1))
	doc.WriteByte(0x02) // string
	doc.WriteString("$db\x00")
	doc.Write(binary.LittleEndian.AppendUint32(nil, uint32(len("admin")+1)))
	doc.WriteString("admin\x00")
	doc.WriteByte(0)
	d := doc.Bytes()
	binary.LittleEndian.PutUint32(d, uint32(len(d)))

	msg := make([]byte, 16, 16+4+1+len(d))
	binary.LittleEndian.PutUint32(msg[4:], 1) // requestID
	binary.LittleEndian.PutUint32(msg[12:], opMsg)
	msg = append(msg, 0, 0, 0, 0) // flagBits
	msg = append(msg, 0)          // section kind 0: body
	msg = append(msg, d...)
	binary.LittleEndian.PutUint32(msg, uint32(len(msg)))
	return msg
}
