package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// probeWait bounds one readiness probe.
const probeWait = 3 * time.Second

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
