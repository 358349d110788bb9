package main

import (
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
)

func TestMongoPing(t *testing.T) {
	msg := mongoPing()
	if n := int(msg[0]) | int(msg[1])<<8; n != len(msg) {
		t.Errorf("message length field %d, want %d", n, len(msg))
	}
	if !strings.Contains(string(msg), "ping\x00\x01\x00\x00\x00\x02$db\x00\x06\x00\x00\x00admin\x00\x00") {
		t.Errorf("unexpected body %q", msg)
	}
}

// serve answers one connection with reply, after reading want bytes.
func serve(t *testing.T, want int, reply []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := io.ReadFull(c, make([]byte, want)); err == nil {
			c.Write(reply)
		}
	}()
	return ln.Addr().String()
}

func TestProbes(t *testing.T) {
	mongoReply := make([]byte, 16)
	binary.LittleEndian.PutUint32(mongoReply[12:], opMsg)
	tests := []struct {
		name    string
		probe   func(string) error
		read    int
		reply   []byte
		wantErr bool
	}{
		{"postgres", probePostgres, 8, []byte("N"), false},
		{"postgres wrong", probePostgres, 8, []byte("E"), true},
		{"postgres closed", probePostgres, 8, nil, true},
		{"mysql", probeMySQL, 0, []byte{0x5b, 0, 0, 0, 10}, false},
		{"mysql wrong", probeMySQL, 0, []byte{0x5b, 0, 0, 0, 0xff}, true},
		{"redis", probeRedis, 6, []byte("+PONG\r\n"), false},
		{"redis loading", probeRedis, 6, []byte("-LOADING\r\n"), true},
		{"mongo", probeMongo, len(mongoPing()), mongoReply, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.probe(serve(t, tt.read, tt.reply))
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}
