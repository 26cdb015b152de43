using Microsoft.Extensions.Logging.Console;

namespace Gateway.AccessLog;

/// <summary>Binds <c>Gateway:AccessLog</c>, and adds the file provider when the lines go to a file.</summary>
internal static class AccessLogRegistration
{
    public static IServiceCollection AddGatewayAccessLog(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(AccessLogOptions.SectionName);
        services.AddOptions<AccessLogOptions>().Bind(section);
        var options = section.Get<AccessLogOptions>() ?? new AccessLogOptions();
        if (options.Enabled && !string.IsNullOrWhiteSpace(options.File))
        {
            services.AddSingleton(provider => new AccessLogFile(GatewayOptions.Resolve(options.File), provider.GetRequiredService<TimeProvider>()));
            services.AddSingleton<ILoggerProvider>(provider => provider.GetRequiredService<AccessLogFile>());
            // The file has the lines: the console does not print each a second time.
            services.AddLogging(logging => logging.AddFilter<ConsoleLoggerProvider>(AccessLogOptions.Category, LogLevel.None));
        }
        return services;
    }
}
