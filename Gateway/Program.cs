var builder = WebApplication.CreateBuilder(args);
builder.UseInlineIo();
builder.AddGateway();

var app = builder.Build();
app.UseGateway();
return await app.RunGatewayAsync();
