package webchatservice

// Commands that only GMS transports support (or that behave differently there): polling,
// files, history, sleep and wake.

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/transports"
)

func (s *Service) poller(unsupported error) (transports.Poller, error) {
	if !s.caps.Polling {
		return nil, unsupported
	}
	if s.state != stateActive {
		return nil, ErrNoActiveChatSession
	}
	p, err := transports.AsPoller(s.tr)
	if err != nil {
		return nil, unsupported
	}
	return p, nil
}

func (s *Service) cmdPoll(ctx context.Context, c *bus.Call) (any, error) {
	p, err := s.poller(transports.ErrPollingUnsupported)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) {
		answer, err := p.Poll(ctx)
		if err != nil {
			return nil, err
		}
		return redactedAnswer(answer), nil
	}, nil)
	return nil, nil
}

func (s *Service) cmdStartPoll(ctx context.Context, c *bus.Call) (any, error) {
	p, err := s.poller(transports.ErrPollingUnsupported)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return p.StartPoll(ctx) }, func(v any, err error) (any, error) {
		if err == nil && v.(bool) {
			s.polling = true
			s.publish(EventPollingStarted, nil, false)
		}
		return nil, err
	})
	return nil, nil
}

func (s *Service) cmdStopPoll(ctx context.Context, c *bus.Call) (any, error) {
	p, err := s.poller(transports.ErrPollingUnsupported)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return nil, p.StopPoll(ctx) }, func(_ any, err error) (any, error) {
		if err == nil {
			s.polling = false
			s.publish(EventPollingStopped, nil, false)
		}
		return nil, err
	})
	return nil, nil
}

func (s *Service) cmdResetPollExceptions(ctx context.Context, c *bus.Call) (any, error) {
	if !s.caps.Polling {
		return nil, transports.ErrResetPollExceptionsUnsupported
	}
	if p, err := transports.AsPoller(s.tr); err == nil {
		p.ResetPollExceptions()
	}
	return nil, nil
}

func (s *Service) files(op transports.FileOp) (transports.Files, error) {
	if !s.caps.FileUpload && !s.caps.FileDownload && !s.caps.FileLimits {
		return nil, transports.FileOpError(op)
	}
	if s.state != stateActive {
		return nil, ErrNoActiveChat
	}
	f, ok := s.tr.(transports.Files)
	if !ok {
		return nil, transports.FileOpError(op)
	}
	return f, nil
}

func (s *Service) cmdSendFile(ctx context.Context, c *bus.Call) (any, error) {
	f, err := s.files(transports.FileOpUpload)
	if err != nil {
		return nil, err
	}
	o, err := bus.DecodeOptions[SendFileOptions](c.Options)
	if err != nil {
		return nil, err
	}
	if len(o.Files) == 0 || o.Files[0].Reader == nil {
		return nil, fmt.Errorf("%w: files: one file with a reader is required", bus.ErrInvalidOptions)
	}
	file := o.Files[0]
	s.wakeIfSleeping()
	s.deferIO(c, func(ctx context.Context) (any, error) {
		res, err := f.UploadFile(ctx, transports.FileUpload{Name: file.Name, ContentType: file.ContentType, Size: file.Size, Body: file.Reader, Description: file.Description})
		if err != nil {
			return nil, err
		}
		return redactedAnswer(res.Answer), nil
	}, s.reportFailure)
	return nil, nil
}

func (s *Service) cmdDownloadFile(ctx context.Context, c *bus.Call) (any, error) {
	f, err := s.files(transports.FileOpDownload)
	if err != nil {
		return nil, err
	}
	o, err := bus.DecodeOptions[DownloadFileOptions](c.Options)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) {
		var buf bytes.Buffer
		d, err := f.DownloadFile(ctx, o.FileID, &buf)
		if err != nil {
			return nil, err
		}
		return DownloadedFile{FileID: o.FileID, Name: d.Name, ContentType: d.ContentType, Size: int64(buf.Len()), Body: buf.Bytes()}, nil
	}, s.reportFailure)
	return nil, nil
}

func (s *Service) cmdGetFileLimits(ctx context.Context, c *bus.Call) (any, error) {
	f, err := s.files(transports.FileOpLimits)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return f.FileLimits(ctx) }, s.reportFailure)
	return nil, nil
}

func (s *Service) cmdFetchHistory(ctx context.Context, c *bus.Call) (any, error) {
	if s.tr == nil {
		if s.set.mode == ModePureCloud {
			return nil, ErrNoActiveChat
		}
		return nil, transports.ErrHistoryAsyncOnly
	}
	h, err := transports.AsHistory(s.tr)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return h.FetchHistory(ctx) }, func(v any, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		page := v.(transports.HistoryPage)
		s.publishHistory(page.Messages)
		return redactedAnswer(page.Answer), nil
	})
	return nil, nil
}

func (s *Service) cmdSleep(ctx context.Context, c *bus.Call) (any, error) {
	sl, ok := transports.AsSleeper(s.tr)
	if !ok || s.set == nil || !s.set.cfg.SleepEnabled || s.state != stateActive || s.sleeping || s.async {
		return nil, nil
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return sl.Sleep(ctx) }, func(v any, err error) (any, error) {
		if err == nil && v.(bool) && !s.sleeping {
			s.sleeping = true
			s.publish(EventSleeping, nil, false)
			s.setData(DataSleeping, true)
		}
		return nil, err
	})
	return nil, nil
}

func (s *Service) cmdWake(ctx context.Context, c *bus.Call) (any, error) {
	o, _ := bus.DecodeOptions[WakeOptions](c.Options)
	sl, ok := transports.AsSleeper(s.tr)
	if !ok || s.state != stateActive || !s.sleeping && !o.ResetIdleState {
		return nil, nil
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return sl.Wake(ctx, o.ResetIdleState) }, func(v any, err error) (any, error) {
		if err == nil && s.sleeping {
			s.sleeping = false
			s.publish(EventWaking, nil, false)
			s.setData(DataSleeping, false)
		}
		return nil, err
	})
	return nil, nil
}

// wakeIfSleeping wakes a sleeping service before startChat, sendMessage and sendFile.
func (s *Service) wakeIfSleeping() {
	if !s.sleeping {
		return
	}
	s.sleeping = false
	s.publish(EventWaking, nil, false)
	s.setData(DataSleeping, false)
	if sl, ok := transports.AsSleeper(s.tr); ok {
		s.goIO(func() {
			if _, err := sl.Wake(context.Background(), false); err != nil {
				s.log.Debug().Err(err).Msg("webchatservice: wake failed")
			}
		}, nil)
	}
}
