package hosts_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"github.com/ndshm/ndshm/internal/hosts"
)

// Two hosts: a file made in one host's /dev/shm is not in the other's,
// and a server in one is reached at its address from the other. Tests
// use New, which removes the hosts when the test ends.
func ExampleStart() {
	s, remove, err := hosts.Start(2)
	if err != nil {
		log.Fatal(err)
	}
	defer remove()
	ctx := context.Background()
	s[0].Command(ctx, "sh", "-c", "echo hi > /dev/shm/x").Run()
	err = s[1].Command(ctx, "test", "-e", "/dev/shm/x").Run()
	fmt.Println("host 1 sees host 0's /dev/shm/x:", err == nil)

	// A server started by s[0].Command listens on this address; clients
	// started by s[1].Command reach it there.
	fmt.Println("host 0 listens on", net.JoinHostPort(s[0].Addr.String(), "8815"))
}
