from nngpair import main

main()
