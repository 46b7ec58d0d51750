// The Node.js language host's front: a small Go binary the engine starts in a few
// milliseconds. The engine starts a language host twice per operation, the first time
// only to ask what it is; a Node.js process costs 0.2–0.3 s to answer that. This one
// answers itself, and on Run starts the Node.js host (../langhost.ts, which runs the
// program in its own process) and hands the call over to it.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
)

// As large as the Node.js host accepts: a big program's Run request carries its config.
const maxMessage = 400 << 20

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	args []string

	once sync.Once
	node pulumirpc.LanguageRuntimeClient
	err  error
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: "1.0.0"}, nil
}

func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	h.once.Do(func() { h.node, h.err = startNode(h.args) })
	if h.err != nil {
		return nil, h.err
	}
	return h.node.Run(ctx, req, grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage))
}

// startNode starts the Node.js host with this host's arguments and connects to the port
// it prints first; the rest of its output is this host's, for the engine to show.
func startNode(args []string) (pulumirpc.LanguageRuntimeClient, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	// This binary is .tools/bin/<name>; the project's engine sources are tools/engine.
	engine := filepath.Join(filepath.Dir(self), "..", "..", "tools", "engine")
	cmd := exec.Command("node", append([]string{"-r", filepath.Join(engine, "ts-require.js"), filepath.Join(engine, "langhost.ts")}, args...)...)
	cmd.Stderr = os.Stderr
	// Gone with this host (the engine kills its plugins' process groups, but may itself be killed).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the Node.js language host: %w", err)
	}
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("the Node.js language host printed no port: %w", err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return nil, fmt.Errorf("the Node.js language host printed %q, not a port", line)
	}
	go func() { _, _ = io.Copy(os.Stdout, r) }()
	conn, err := grpc.NewClient(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	return pulumirpc.NewLanguageRuntimeClient(conn), nil
}

// exitWithEngine ends this host once its parent, the engine, is gone: an engine killed
// outright stops nothing, and an orphaned host would wait for calls forever.
func exitWithEngine() {
	engine := os.Getppid()
	for range time.Tick(time.Second) {
		if os.Getppid() != engine {
			os.Exit(1)
		}
	}
}

func main() {
	go exitWithEngine()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs (wanlab): %v\n", err)
		os.Exit(1)
	}
	server := grpc.NewServer(grpc.MaxRecvMsgSize(maxMessage), grpc.MaxSendMsgSize(maxMessage))
	pulumirpc.RegisterLanguageRuntimeServer(server, &host{args: os.Args[1:]})
	// The engine reads the port from our first line of stdout.
	fmt.Printf("%d\n", lis.Addr().(*net.TCPAddr).Port)
	if err := server.Serve(lis); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs (wanlab): %v\n", err)
		os.Exit(1)
	}
}
