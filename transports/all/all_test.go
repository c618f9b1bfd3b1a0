package all_test

import (
	"fmt"
	"slices"

	"github.com/cxbus/webchat/transports"
	_ "github.com/cxbus/webchat/transports/all"
)

func Example() {
	names := transports.Registered()
	fmt.Println(slices.Contains(names, transports.TypePureCloud), slices.Contains(names, transports.TypeGMS))
	// Output: true true
}
