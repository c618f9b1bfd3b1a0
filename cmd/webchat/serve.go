package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/natsbridge"
	"github.com/cxbus/webchat/natsbridge/embedded"
	"github.com/cxbus/webchat/restore"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/webchatservice"
)

func init() {
	commands["serve"] = command{
		Summary: "run the daemon: sessions over NATS subjects (embedded NATS server unless --nats-url)",
		Run:     serveCommand,
	}
}

// daemonConfig is the "daemon" section of the config file; flags override it.
type daemonConfig struct {
	NATSURL           string   `json:"natsURL,omitempty"`
	Creds             string   `json:"creds,omitempty"`
	User              string   `json:"user,omitempty"`
	Password          string   `json:"password,omitempty"`
	Token             string   `json:"token,omitempty"`
	TLSCA             string   `json:"tlsCA,omitempty"`
	TLSCert           string   `json:"tlsCert,omitempty"`
	TLSKey            string   `json:"tlsKey,omitempty"`
	Listen            string   `json:"listen,omitempty"`
	DataDir           string   `json:"dataDir,omitempty"`
	Prefix            string   `json:"prefix,omitempty"`
	NodeID            string   `json:"nodeId,omitempty"`
	EventStream       *bool    `json:"eventStream,omitempty"`
	Ownership         *bool    `json:"ownership,omitempty"`
	LeaseTTL          string   `json:"leaseTTL,omitempty"`
	Replicas          int      `json:"replicas,omitempty"`
	MaxPayload        int      `json:"maxPayload,omitempty"`
	AllowCommands     []string `json:"allowCommands,omitempty"`
	ExposeSecrets     bool     `json:"exposeSecrets,omitempty"`
	EncryptionKeyFile string   `json:"encryptionKeyFile,omitempty"`
}

// configFile is the --config JSON: the Widgets webchat object plus the daemon section. A file
// holding only a webchat object (no "webchat"/"daemon" keys) is read as the webchat object.
type configFile struct {
	Webchat json.RawMessage `json:"webchat,omitempty"`
	Daemon  daemonConfig    `json:"daemon"`
}

type serveOptions struct {
	configPath string
	daemon     daemonConfig
	webchat    json.RawMessage // resolved webchat config (from --config)
	sim        bool
	debug      bool
	shutdown   time.Duration
	// ready, when set, receives the NATS URL once the daemon serves (tests).
	ready chan<- string
}

func serveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o serveOptions
	var d daemonConfig
	fs := newFlagSet("serve", "Runs WebChatService sessions for other services over NATS: webchat.sessions.open|close|list,\n"+
		"webchat.<session>.cmd.<Plugin>.<command> and webchat.<session>.evt.<Plugin>.<event>. Without --nats-url it\n"+
		"embeds a NATS server (JetStream on, data in --data-dir) that other processes can connect to.", stderr)
	fs.StringVar(&o.configPath, "config", "", "JSON file: {\"webchat\": {…Widgets webchat config…}, \"daemon\": {…}}")
	fs.StringVar(&d.NATSURL, "nats-url", "", "join this NATS server or cluster instead of embedding one")
	fs.StringVar(&d.Creds, "nats-creds", "", "NATS credentials file (JWT + nkey)")
	fs.StringVar(&d.User, "nats-user", "", "NATS user")
	fs.StringVar(&d.Password, "nats-password", "", "NATS password")
	fs.StringVar(&d.Token, "nats-token", "", "NATS token")
	fs.StringVar(&d.TLSCA, "tls-ca", "", "CA certificate for the NATS connection")
	fs.StringVar(&d.TLSCert, "tls-cert", "", "client certificate for the NATS connection")
	fs.StringVar(&d.TLSKey, "tls-key", "", "client key for the NATS connection")
	fs.StringVar(&d.Listen, "listen", "", "embedded NATS server client address (default 127.0.0.1:4222)")
	fs.StringVar(&d.DataDir, "data-dir", "", "directory for JetStream and snapshots (default ./webchat-data)")
	fs.StringVar(&d.Prefix, "prefix", "", "subject prefix (default webchat)")
	fs.StringVar(&d.NodeID, "node", "", "node id of this daemon (default random)")
	fs.StringVar(&d.EncryptionKeyFile, "encryption-key-file", "", "file with a 32-byte hex key: snapshots are AES-GCM encrypted at rest")
	fs.BoolVar(&o.sim, "sim", false, "start a Genesys Cloud simulator with a scripted agent in-process and use it")
	fs.BoolVar(&o.debug, "debug", false, "debug logs on stderr")
	fs.DurationVar(&o.shutdown, "shutdown-timeout", 30*time.Second, "how long graceful shutdown may take")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	if o.webchat, o.daemon, err = loadServeConfig(o.configPath, d, set); err != nil {
		return err
	}
	return serve(ctx, o, stdout, stderr)
}

// serve runs the daemon with a resolved configuration until ctx ends.
func serve(ctx context.Context, o serveOptions, stdout, stderr io.Writer) error {
	log := zerolog.Nop()
	if o.debug {
		log = zerolog.New(zerolog.ConsoleWriter{Out: stderr}).With().Timestamp().Logger().Level(zerolog.DebugLevel)
	}
	webchatCfg, d := o.webchat, o.daemon
	if d.DataDir == "" {
		d.DataDir = "webchat-data"
	}
	if d.Prefix == "" {
		d.Prefix = natsbridge.DefaultPrefix
	}

	if o.sim {
		sim, err := simpc.Start("127.0.0.1:0", serveSimOptions(log))
		if err != nil {
			return fmt.Errorf("simulator: %w", err)
		}
		defer sim.Close()
		if webchatCfg == nil {
			raw, _ := json.Marshal(demoWebchatConfig(sim.URL))
			webchatCfg = raw
		}
		fmt.Fprintf(stdout, "simulator: %s (Genesys Cloud guest chat v2, scripted agent)\n", sim.URL)
	}
	if webchatCfg == nil {
		return fmt.Errorf("%w: no webchat configuration: pass --config or --sim", errConfig)
	}

	natsURL := d.NATSURL
	if natsURL == "" {
		srv, err := startEmbedded(d)
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		natsURL = srv.ClientURL()
		fmt.Fprintf(stdout, "nats: embedded server on %s (JetStream in %s)\n", natsURL, filepath.Join(d.DataDir, "nats"))
	}
	nc, err := nats.Connect(natsURL, natsOptions(d)...)
	if err != nil {
		return fmt.Errorf("nats: connect %s: %w", redactURL(natsURL), err)
	}
	defer nc.Close()

	store, bopts, err := clusterSetup(ctx, nc, d, log)
	if err != nil {
		return err
	}
	host, err := webchatservice.NewHost(webchatservice.HostOptions{Config: webchatCfg, Store: store, Logger: log})
	if err != nil {
		return fmt.Errorf("webchat config: %w", err)
	}
	bopts.Conn, bopts.Host, bopts.Logger = nc, host, log
	bopts.Prefix, bopts.NodeID, bopts.MaxPayload = d.Prefix, d.NodeID, d.MaxPayload
	bopts.AllowCommands, bopts.ExposeSecrets = d.AllowCommands, d.ExposeSecrets
	bridge, err := natsbridge.New(bopts)
	if err != nil {
		return err
	}
	if err := bridge.Start(ctx); err != nil {
		return err
	}
	if bopts.Ownership == nil {
		if ids, err := host.RestoreAll(ctx); err != nil {
			fmt.Fprintf(stderr, "webchat serve: restoring sessions: %v\n", err)
		} else if len(ids) > 0 {
			fmt.Fprintf(stdout, "restored %d session(s)\n", len(ids))
		}
	}
	mode := "single node (file snapshots)"
	if bopts.Ownership != nil {
		mode = "cluster member (KV snapshots, leases)"
	}
	fmt.Fprintf(stdout, "webchat serve: node %s ready on %s, prefix %q, %s\n", bridge.NodeID(), redactURL(natsURL), d.Prefix, mode)
	fmt.Fprintf(stdout, "try: nats req %s.sessions.open '{}' --server %s\n", d.Prefix, redactURL(natsURL))
	if o.ready != nil {
		o.ready <- natsURL
	}

	<-ctx.Done()
	fmt.Fprintln(stdout, "webchat serve: shutting down (snapshotting sessions)")
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdown)
	defer cancel()
	err = errors.Join(bridge.Shutdown(sctx), host.Shutdown(sctx))
	if bopts.EventStream != nil {
		st := bridge.StreamStats()
		fmt.Fprintf(stdout, "webchat serve: event stream: %d events stored, %d retried, %d lost\n", st.Stored, st.Retried, st.Lost)
	}
	if derr := nc.Drain(); derr != nil && !errors.Is(derr, nats.ErrConnectionClosed) {
		err = errors.Join(err, derr)
	}
	return err
}

var errConfig = errors.New("config")

// loadServeConfig reads --config and applies the flags that were set over its daemon section.
func loadServeConfig(path string, flags daemonConfig, set map[string]bool) (json.RawMessage, daemonConfig, error) {
	var cf configFile
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, daemonConfig{}, fmt.Errorf("%w: %v", errConfig, err)
		}
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, daemonConfig{}, fmt.Errorf("%w: %s: %v", errConfig, path, err)
		}
		_, hasWebchat := probe["webchat"]
		_, hasDaemon := probe["daemon"]
		if hasWebchat || hasDaemon {
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&cf); err != nil {
				return nil, daemonConfig{}, fmt.Errorf("%w: %s: %v", errConfig, path, err)
			}
		} else {
			cf.Webchat = raw
		}
	}
	d := cf.Daemon
	override := map[string]func(){
		"nats-url": func() { d.NATSURL = flags.NATSURL }, "nats-creds": func() { d.Creds = flags.Creds },
		"nats-user": func() { d.User = flags.User }, "nats-password": func() { d.Password = flags.Password },
		"nats-token": func() { d.Token = flags.Token }, "tls-ca": func() { d.TLSCA = flags.TLSCA },
		"tls-cert": func() { d.TLSCert = flags.TLSCert }, "tls-key": func() { d.TLSKey = flags.TLSKey },
		"listen": func() { d.Listen = flags.Listen }, "data-dir": func() { d.DataDir = flags.DataDir },
		"prefix": func() { d.Prefix = flags.Prefix }, "node": func() { d.NodeID = flags.NodeID },
		"encryption-key-file": func() { d.EncryptionKeyFile = flags.EncryptionKeyFile },
	}
	for name, apply := range override {
		if set[name] {
			apply()
		}
	}
	if d.LeaseTTL != "" {
		if _, err := time.ParseDuration(d.LeaseTTL); err != nil {
			return nil, d, fmt.Errorf("%w: daemon.leaseTTL %q: %v", errConfig, d.LeaseTTL, err)
		}
	}
	if len(cf.Webchat) == 0 {
		return nil, d, nil
	}
	return cf.Webchat, d, nil
}

func startEmbedded(d daemonConfig) (*embedded.Server, error) {
	listen := d.Listen
	if listen == "" {
		listen = "127.0.0.1:4222"
	}
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("%w: --listen %q: %v", errConfig, listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("%w: --listen %q: bad port", errConfig, listen)
	}
	if port == 0 {
		port = -1
	}
	dir := filepath.Join(d.DataDir, "nats")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	srv, err := embedded.Start(embedded.Options{Host: host, Port: port, JetStream: true, Dir: dir})
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server on %s: %w", listen, err)
	}
	return srv, nil
}

func natsOptions(d daemonConfig) []nats.Option {
	opts := []nats.Option{nats.Name("webchat serve"), nats.MaxReconnects(-1)}
	if d.Creds != "" {
		opts = append(opts, nats.UserCredentials(d.Creds))
	}
	if d.User != "" {
		opts = append(opts, nats.UserInfo(d.User, d.Password))
	}
	if d.Token != "" {
		opts = append(opts, nats.Token(d.Token))
	}
	if d.TLSCA != "" {
		opts = append(opts, nats.RootCAs(d.TLSCA))
	}
	if d.TLSCert != "" || d.TLSKey != "" {
		opts = append(opts, nats.ClientCert(d.TLSCert, d.TLSKey))
	}
	return opts
}

// clusterSetup picks the store and the bridge's scale-out options: with JetStream, snapshots in
// a KV bucket, leases and the event stream (each can be turned off in the daemon section);
// without it, one node with snapshots in files.
func clusterSetup(ctx context.Context, nc *nats.Conn, d daemonConfig, log zerolog.Logger) (restore.Store, natsbridge.Options, error) {
	var bopts natsbridge.Options
	var store restore.Store
	js, err := jetstream.New(nc)
	if err == nil {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = js.AccountInfo(actx)
		cancel()
	}
	if err != nil {
		log.Info().Err(err).Msg("no JetStream: single node with file snapshots")
		fs, ferr := restore.NewFileStore(filepath.Join(d.DataDir, "snapshots"), restore.FileOptions{Logger: log})
		if ferr != nil {
			return nil, bopts, fmt.Errorf("snapshot store: %w", ferr)
		}
		store = fs
	} else {
		ttl := natsbridge.DefaultLeaseTTL
		if d.LeaseTTL != "" {
			ttl, _ = time.ParseDuration(d.LeaseTTL)
		}
		buckets, berr := natsbridge.CreateBuckets(ctx, js, d.Prefix, ttl, d.Replicas)
		if berr != nil {
			return nil, bopts, berr
		}
		store = natsbridge.NewKVStore(buckets.Snapshots)
		if d.Ownership == nil || *d.Ownership {
			bopts.Ownership = &natsbridge.Ownership{Leases: buckets.Leases, TTL: ttl}
		}
		if d.EventStream == nil || *d.EventStream {
			bopts.EventStream = &natsbridge.EventStream{Create: true, Replicas: d.Replicas}
		}
	}
	if d.EncryptionKeyFile != "" {
		key, kerr := readKey(d.EncryptionKeyFile)
		if kerr != nil {
			return nil, bopts, kerr
		}
		if store, err = restore.Encrypt(store, key); err != nil {
			return nil, bopts, err
		}
	}
	if bopts.Ownership != nil {
		bopts.Ownership.Store = store
	}
	return store, bopts, nil
}

func readKey(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%w: encryption key file %s must hold 64 hex digits (32 bytes)", errConfig, path)
	}
	return key, nil
}

// redactURL drops user info from a NATS URL before it is printed.
func redactURL(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "[redacted]@" + u[i+1:]
		}
	}
	return u
}

// serveSimOptions is the simulator of --sim: an agent that greets and echoes.
func serveSimOptions(log zerolog.Logger) simpc.Options {
	return simpc.Options{
		RoutingDelay: 100 * time.Millisecond,
		AlertDelay:   100 * time.Millisecond,
		AnswerDelay:  200 * time.Millisecond,
		CloseGrace:   100 * time.Millisecond,
		Script: &simpc.Script{
			Agent:         &simpc.AgentProfile{Name: "Sam"},
			AgentGreeting: "Hello, this is Sam. How can I help?",
			Echo:          true,
			EchoPrefix:    "You said: ",
			ReplyDelay:    300 * time.Millisecond,
			ReplyTyping:   true,
		},
		Logger: log.With().Str("component", "sim").Logger(),
	}
}
