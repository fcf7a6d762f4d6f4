from sysinfo_cffi import main

main()
