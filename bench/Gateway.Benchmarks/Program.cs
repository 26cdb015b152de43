using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Gateway.Benchmarks -- --filter '*'   (see bench/README.md)
BenchmarkSwitcher.FromAssembly(typeof(Gateway.Benchmarks.PipelineRunnerBenchmarks).Assembly).Run(args);
