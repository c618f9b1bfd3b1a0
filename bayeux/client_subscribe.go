package bayeux

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Request publishes data on a /service/** channel and waits for the reply the server
// delivers on the same channel. match selects the reply; nil matches a delivery whose id
// equals the publish's id or, when the delivery carries no id (GMS and most CometD
// services), the first delivery on the channel after the publish. The reply is also
// dispatched to listeners. An unsuccessful publish acknowledgement fails the request.
func (c *Client) Request(ctx context.Context, channel string, data any, match func(*Message) bool) (*Message, error) {
	if err := ValidateChannel(channel); err != nil {
		return nil, err
	}
	if !IsServiceChannel(channel) || IsWildcard(channel) {
		return nil, fmt.Errorf("%w %q: Request needs a /service/** channel", ErrBadChannel, channel)
	}
	raw, err := encodeData(data)
	if err != nil {
		return nil, err
	}
	id := c.newID()
	w := &waiter{channel: channel, id: id, match: match, ch: make(chan *Message, 1)}
	c.addWaiter(w)
	defer c.removeWaiter(w)
	m := &Message{Channel: channel, Data: raw, ID: id}
	if _, err := c.publish(ctx, m, func() { w.armed.Store(true) }); err != nil {
		return nil, err
	}
	t := c.opts.Clock.NewTimer(c.opts.MaxNetworkDelay)
	defer t.Stop()
	select {
	case r := <-w.ch:
		return r, nil
	case <-t.C():
		return nil, fmt.Errorf("%w: no reply on %s", ErrTimeout, channel)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, ErrClosed
	}
}

// Subscription is an active subscription made with Subscribe.
type Subscription struct {
	c       *Client
	channel string
	remove  func()
	once    sync.Once
}

// Channel returns the subscribed channel or pattern.
func (s *Subscription) Channel() string { return s.channel }

// Unsubscribe removes the listener and, when it was the last one on the channel, sends
// /meta/unsubscribe.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		s.remove()
		c := s.c
		c.mu.Lock()
		c.subs[s.channel]--
		last := c.subs[s.channel] <= 0
		if last {
			delete(c.subs, s.channel)
		}
		c.mu.Unlock()
		if last {
			err = c.sendSubscription(ctx, ChannelUnsubscribe, s.channel)
		}
	})
	return err
}

// Subscribe sends /meta/subscribe for channel (a name or a "/*", "/**" pattern) and adds
// fn as a listener of its deliveries. The subscription is sent again after every
// re-handshake. On /service/** channels no subscription is needed: AddListener is
// enough, though servers accept one.
func (c *Client) Subscribe(ctx context.Context, channel string, fn func(*Message)) (*Subscription, error) {
	if err := ValidateChannel(channel); err != nil {
		return nil, err
	}
	if IsMetaChannel(channel) {
		return nil, fmt.Errorf("%w %q: cannot subscribe to a meta channel", ErrBadChannel, channel)
	}
	if fn == nil {
		return nil, errors.New("bayeux: Subscribe needs a listener")
	}
	remove := c.addListener(channel, fn)
	c.mu.Lock()
	c.subs[channel]++
	first := c.subs[channel] == 1
	c.mu.Unlock()
	sub := &Subscription{c: c, channel: channel, remove: remove}
	if first {
		if err := c.sendSubscription(ctx, ChannelSubscribe, channel); err != nil {
			remove()
			c.mu.Lock()
			c.subs[channel]--
			if c.subs[channel] <= 0 {
				delete(c.subs, channel)
			}
			c.mu.Unlock()
			return nil, err
		}
	}
	return sub, nil
}

func (c *Client) sendSubscription(ctx context.Context, metaChannel, channel string) error {
	id, err := c.waitSession(ctx)
	if err != nil {
		return err
	}
	m := &Message{Channel: metaChannel, ClientID: id, Subscription: Channels{channel}}
	rep, err := c.call(ctx, m, c.opts.MaxNetworkDelay)
	if err != nil {
		return err
	}
	if !rep.Successful {
		c.afterFailedReply(rep)
		return replyError(rep)
	}
	return nil
}
