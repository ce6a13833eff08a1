// Command pulumi-language-python is hastack's own, minimal Pulumi language host for
// Python programs and Python policy packs.
//
// Why it exists: Pulumi's language host lives in the nested module
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, which the Go
// module proxy reachable from our machines does not serve (every request for it,
// including its version list, answers "403 Forbidden: This module version is not
// available"). The last sdk/v3 release that still carried the host inside sdk/v3
// (v3.68.0) predates the engine's current protocol (policy packs are started with
// the language host's RunPlugin since v3.221). So we implement the few RPCs the
// engine needs for `pulumi preview|up|destroy` and `--policy-pack`, on top of the
// served sdk/v3 module, and keep the Python side identical to upstream: programs
// run through the `pulumi-language-python-exec` script that ships in sdk/v3 (placed
// next to this binary by toolchain/build.sh), policy packs through
// `python -m pulumi.policy`.
//
// Python resolution: the project's runtime option `virtualenv` (relative to the
// project root), else $PULUMI_PYTHON_VIRTUALENV, else $VIRTUAL_ENV, else
// `python3` on PATH. Dependencies are never installed by this host:
// InstallDependencies only reports the interpreter in use.
//
// Not implemented (the engine answers "not implemented" cleanly): code generation
// (GenerateProgram/Project/Package), Pack, Link, templates, runtime option prompts.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is set with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

// Exit code with which pulumi-language-python-exec says it already showed the
// user an actionable error message.
const execBailExitCode = 32

func main() {
	tracing := flag.String("tracing", "", "Zipkin-compatible tracing endpoint (passed to the program)")
	// Flags the engine may pass that this host accepts and ignores (some, like
	// -logtostderr and -v, are already registered by glog through the sdk).
	if flag.Lookup("root") == nil {
		flag.String("root", "", "ignored")
	}
	for _, name := range []string{"logflow", "logtostderr"} {
		if flag.Lookup(name) == nil {
			flag.Bool(name, false, "ignored")
		}
	}
	if flag.Lookup("v") == nil {
		flag.Int("v", 0, "ignored")
	}
	flag.Parse()

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	self, err := os.Executable()
	if err != nil {
		fatalf("cannot locate own executable: %v", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	execScript := self + "-exec"
	if _, err := os.Stat(execScript); err != nil {
		fatalf("the program runner %s is missing (toolchain/build.sh places it beside this binary): %v",
			execScript, err)
	}

	host := &pythonHost{engineAddress: engineAddress, tracing: *tracing, execScript: execScript}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fatalf("could not start the language host gRPC server: %v", err)
	}
	go exitWhenOrphaned(os.Getppid())
	// The engine reads the port from our first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fatalf("language host stopped serving: %v", err)
	}
}

// exitWhenOrphaned ends the host once the engine that started it is gone: a CLI killed with SIGKILL
// never shuts its plugins down, and a host reparented to init would otherwise serve nobody for ever.
func exitWhenOrphaned(parent int) {
	for range time.Tick(time.Second) {
		if os.Getppid() != parent {
			fmt.Fprintln(os.Stderr, "pulumi-language-python (hastack): the engine is gone; exiting")
			os.Exit(0)
		}
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python (hastack): "+format+"\n", args...)
	os.Exit(1)
}

type pythonHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	engineAddress string
	tracing       string
	execScript    string
}

// python describes the interpreter chosen for a program or a policy pack.
type python struct {
	exe        string   // interpreter to run
	virtualenv string   // "" when no virtual environment is used
	env        []string // environment for the child process
}

func optionString(opts *structpb.Struct, key string) string {
	if opts == nil {
		return ""
	}
	if v, ok := opts.GetFields()[key]; ok {
		return v.GetStringValue()
	}
	return ""
}

// resolvePython picks the interpreter for a program whose project root is root.
func resolvePython(info *pulumirpc.ProgramInfo, baseEnv []string) (python, error) {
	venv := optionString(info.GetOptions(), "virtualenv")
	if venv != "" && !filepath.IsAbs(venv) {
		venv = filepath.Join(info.GetRootDirectory(), venv)
	}
	if venv != "" {
		if _, err := os.Stat(filepath.Join(venv, "bin", "python")); err != nil {
			return python{}, fmt.Errorf("the `virtualenv` runtime option of the project or policy pack in %s "+
				"points to %s, which has no bin/python (a relative path is taken from that folder; "+
				"this host installs no dependencies): %w", info.GetRootDirectory(), venv, err)
		}
	}
	if venv == "" {
		venv = os.Getenv("PULUMI_PYTHON_VIRTUALENV")
	}
	if venv == "" {
		venv = os.Getenv("VIRTUAL_ENV")
	}
	if venv != "" {
		exe := filepath.Join(venv, "bin", "python")
		if _, err := os.Stat(exe); err != nil {
			return python{}, fmt.Errorf("virtual environment %s has no bin/python: %w", venv, err)
		}
		return python{exe: exe, virtualenv: venv, env: activate(baseEnv, venv)}, nil
	}
	exe, err := exec.LookPath("python3")
	if err != nil {
		return python{}, errors.New("no virtualenv configured and no python3 on PATH")
	}
	return python{exe: exe, env: baseEnv}, nil
}

// activate returns environ with venv's bin directory first on PATH, VIRTUAL_ENV set
// and PYTHONHOME removed, as `source <venv>/bin/activate` would.
func activate(environ []string, venv string) []string {
	out := make([]string, 0, len(environ)+2)
	bin := filepath.Join(venv, "bin")
	hasPath := false
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH":
			hasPath = true
			out = append(out, "PATH="+bin+string(os.PathListSeparator)+v)
		case "PYTHONHOME", "VIRTUAL_ENV":
		default:
			out = append(out, kv)
		}
	}
	if !hasPath {
		out = append(out, "PATH="+bin)
	}
	return append(out, "VIRTUAL_ENV="+venv)
}

func (h *pythonHost) Handshake(ctx context.Context,
	req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *pythonHost) GetPluginInfo(ctx context.Context, _ *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// pluginJSON is the pulumi-plugin.json that Pulumi packages ship.
type pluginJSON struct {
	Resource bool   `json:"resource"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Server   string `json:"server"`
}

// requiredPackages lists the resource plugins of the Pulumi packages installed in
// the interpreter's environment (the pulumi-plugin.json files they ship).
func requiredPackages(ctx context.Context, py python) ([]*pulumirpc.PackageDependency, error) {
	const script = `
import importlib.metadata as md, json
out = []
for d in md.distributions():
    for f in d.files or []:
        if f.name == "pulumi-plugin.json":
            try:
                out.append(json.loads(f.read_text()))
            except Exception:
                pass
print(json.dumps(out))
`
	cmd := exec.CommandContext(ctx, py.exe, "-c", script)
	cmd.Env = py.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing Pulumi packages with %s: %w: %s", py.exe, err, stderr.String())
	}
	var plugins []pluginJSON
	if err := json.Unmarshal(stdout, &plugins); err != nil {
		return nil, fmt.Errorf("parsing Pulumi package list: %w", err)
	}
	var deps []*pulumirpc.PackageDependency
	seen := map[string]bool{}
	for _, p := range plugins {
		if !p.Resource || p.Name == "" || seen[p.Name+"@"+p.Version] {
			continue
		}
		seen[p.Name+"@"+p.Version] = true
		v := p.Version
		if v != "" && !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		deps = append(deps, &pulumirpc.PackageDependency{
			Kind: "resource", Name: p.Name, Version: v, Server: p.Server,
		})
	}
	return deps, nil
}

func (h *pythonHost) GetRequiredPackages(ctx context.Context,
	req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	py, err := resolvePython(req.GetInfo(), os.Environ())
	if err != nil {
		return nil, err
	}
	deps, err := requiredPackages(ctx, py)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: deps}, nil
}

// GetRequiredPlugins is the older form of GetRequiredPackages: the same packages, as plugins.
func (h *pythonHost) GetRequiredPlugins(ctx context.Context,
	req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	packages, err := h.GetRequiredPackages(ctx, &pulumirpc.GetRequiredPackagesRequest{Info: req.GetInfo()})
	if err != nil {
		return nil, err
	}
	var plugins []*pulumirpc.PluginDependency
	for _, d := range packages.GetPackages() {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: d.Name, Kind: d.Kind, Version: d.Version, Server: d.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// Run runs a Python program through pulumi-language-python-exec.
func (h *pythonHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	if info == nil {
		info = &pulumirpc.ProgramInfo{RootDirectory: req.GetPwd(), ProgramDirectory: req.GetPwd(), EntryPoint: "."}
	}
	py, err := resolvePython(info, os.Environ())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	program := info.GetEntryPoint()
	if program == "" {
		program = "."
	}
	if !filepath.IsAbs(program) && info.GetProgramDirectory() != "" {
		program = filepath.Join(info.GetProgramDirectory(), program)
	}
	pwd := req.GetPwd()
	if pwd == "" {
		pwd = info.GetProgramDirectory()
	}

	args := []string{"-u", h.execScript}
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("root_directory", info.GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", pwd)
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", h.tracing)
	add("organization", req.GetOrganization())
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	env := py.env
	if cfg := req.GetConfig(); len(cfg) > 0 {
		b, err := json.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("serializing config: %w", err)
		}
		env = append(env, "PULUMI_CONFIG="+string(b))
	}
	if keys := req.GetConfigSecretKeys(); len(keys) > 0 {
		b, err := json.Marshal(keys)
		if err != nil {
			return nil, fmt.Errorf("serializing config secret keys: %w", err)
		}
		env = append(env, "PULUMI_CONFIG_SECRET_KEYS="+string(b))
	}

	cmd := exec.CommandContext(ctx, py.exe, args...)
	cmd.Dir = pwd
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == execBailExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Problem executing program (could not run %s): %v", py.exe, err),
		}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin runs a plugin written in Python: a policy pack (kind "analyzer") through
// `python -m pulumi.policy <engine> <pack dir>`, anything else by running its
// directory's __main__.py. Output is streamed back to the engine.
func (h *pythonHost) RunPlugin(req *pulumirpc.RunPluginRequest,
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	info := req.GetInfo()
	if info == nil {
		info = &pulumirpc.ProgramInfo{RootDirectory: req.GetProgram(), ProgramDirectory: req.GetProgram(), EntryPoint: "."}
	}
	dir := info.GetProgramDirectory()
	if dir == "" {
		dir = req.GetProgram()
	}
	baseEnv := req.GetEnv()
	if len(baseEnv) == 0 {
		baseEnv = os.Environ()
	}
	py, err := resolvePython(info, baseEnv)
	if err != nil {
		return err
	}

	var args []string
	if req.GetKind() == "analyzer" {
		args = append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...)
		args = append(args, dir)
	} else {
		args = append([]string{"-u", dir}, req.GetArgs()...)
	}

	ctx := server.Context()
	cmd := exec.CommandContext(ctx, py.exe, args...)
	cmd.Dir = dir
	cmd.Env = py.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return status.Errorf(codes.FailedPrecondition, "starting %s: %v", py.exe, err)
	}

	var mu sync.Mutex
	send := func(r *pulumirpc.RunPluginResponse) {
		mu.Lock()
		defer mu.Unlock()
		_ = server.Send(r)
	}
	var wg sync.WaitGroup
	pump := func(r io.Reader, wrap func([]byte) *pulumirpc.RunPluginResponse) {
		defer wg.Done()
		br := bufio.NewReader(r)
		buf := make([]byte, 32*1024)
		for {
			n, err := br.Read(buf)
			if n > 0 {
				chunk := make([]byte, n)
				copy(chunk, buf[:n])
				send(wrap(chunk))
			}
			if err != nil {
				return
			}
		}
	}
	wg.Add(2)
	go pump(stdout, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	})
	go pump(stderr, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	})
	wg.Wait()

	code := 0
	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return err
		}
		code = exitErr.ExitCode()
	}
	send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
	return nil
}

// InstallDependencies installs nothing: hastack's venv is managed by the repo.
func (h *pythonHost) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	py, err := resolvePython(req.GetInfo(), os.Environ())
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("hastack language host: dependencies are not installed by the host; using %s\n", py.exe)
	return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: []byte(msg)})
}

func (h *pythonHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	py, err := resolvePython(req.GetInfo(), os.Environ())
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, py.exe, "-c",
		"import platform; print(platform.python_version())").Output()
	if err != nil {
		return nil, fmt.Errorf("running %s: %w", py.exe, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: py.exe,
		Version:    strings.TrimSpace(string(out)),
		Metadata:   map[string]string{"virtualenv": py.virtualenv, "host": "hastack " + version},
	}, nil
}

func (h *pythonHost) GetProgramDependencies(ctx context.Context,
	req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	py, err := resolvePython(req.GetInfo(), os.Environ())
	if err != nil {
		return nil, err
	}
	const script = `
import importlib.metadata as md, json
print(json.dumps(sorted({d.metadata["Name"]: d.version for d in md.distributions()}.items())))
`
	cmd := exec.CommandContext(ctx, py.exe, "-c", script)
	cmd.Env = py.env
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing packages with %s: %w", py.exe, err)
	}
	var pairs [][2]string
	if err := json.Unmarshal(out, &pairs); err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, p := range pairs {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: p[0], Version: p[1]})
	}
	return resp, nil
}

func (h *pythonHost) Cancel(ctx context.Context, _ *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
