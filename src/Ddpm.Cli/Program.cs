using Ddpm.Cli;

return DdpmCli.Run(args);
