package server_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/server"
)

// A client has the server make a block that outlives the client, and
// maps it by name; the server's refusals match the errors they stand for.
func ExampleDial() {
	c, err := server.Dial("") // the default socket, where `ndshm serve` listens
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	info, err := c.Create("frames", ndshm.Spec{DType: ndshm.Float32, Shape: []int{480, 640}})
	if errors.Is(err, fs.ErrExist) {
		fmt.Println("another client made it first")
	} else if err != nil {
		log.Fatal(err)
	}
	b, err := ndshm.Open("frames")
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	fmt.Println(info.Spec, len(b.Bytes()))
}
