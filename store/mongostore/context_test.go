package mongostore

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// silentServer accepts connections and never answers, like a server that
// hangs; it stops when t ends.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		l.Close()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				<-done
				c.Close()
			}()
		}
	}()
	return l.Addr().String()
}

// TestStartupHonoursContext: against a server that accepts and never
// answers, or a closed port, Open and Migrate return promptly once their
// context is done (a SIGTERM during start-up), with the context's error;
// and without a deadline Open gives up after one server selection, not
// two.
func TestStartupHonoursContext(t *testing.T) {
	for name, addr := range map[string]string{"silent server": silentServer(t), "closed port": "127.0.0.1:1"} {
		t.Run(name, func(t *testing.T) {
			// Canceled during start-up.
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			start := time.Now()
			s, err := Open(ctx, "mongodb://"+addr+"/db")
			if s != nil || !errors.Is(err, context.Canceled) {
				t.Errorf("Open canceled during start-up = %v, %v; want context.Canceled", s, err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Open returned %v after its context was canceled", d-200*time.Millisecond)
			}

			// Canceled before.
			start = time.Now()
			if _, err := Open(ctx, "mongodb://"+addr+"/db"); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
				t.Errorf("Open with a canceled context = %v after %v", err, time.Since(start))
			}

			// Migrate on a store from New.
			c, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + addr + "/"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Disconnect(context.Background())
			st, err := New(c.Database("db"))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start = time.Now()
			if err := st.Migrate(ctx); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
				t.Errorf("Migrate past its deadline = %v after %v", err, time.Since(start))
			}

			// No deadline: one server selection of 3s, not one per step (6s).
			start = time.Now()
			if _, err := Open(context.Background(), "mongodb://"+addr+"/db?serverSelectionTimeoutMS=3000"); err == nil {
				t.Fatal("Open of a dead server succeeded")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Open without a deadline gave up after %v, want one 3s server selection", d)
			}
		})
	}
}
