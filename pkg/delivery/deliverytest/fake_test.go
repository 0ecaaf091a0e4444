package deliverytest_test

import (
	"testing"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/delivery/deliverytest"
	"github.com/hooksentry/hooksentry/pkg/destination"
)

func TestFakeConformance(t *testing.T) {
	deliverytest.Run(t, deliverytest.Harness{
		New: func(*testing.T) delivery.Store { return deliverytest.NewFake() },
		AddDestination: func(_ *testing.T, s delivery.Store, d destination.Destination) {
			s.(*deliverytest.Fake).AddDestination(d, delivery.State{})
		},
		DeleteDestination: func(_ *testing.T, s delivery.Store, d destination.Destination) {
			s.(*deliverytest.Fake).DeleteDestination(d.ID)
		},
	})
}
