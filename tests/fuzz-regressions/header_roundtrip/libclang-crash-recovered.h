
            enum FOO {
                DIVNN = ((-0) / (-3)),
                DIVNP = ((-0) / (+3)),
                DIVPN = ((+0) / (-3)),
                MODNN = ((-0) % (-3)),
                MODNP = 8(-0) % (+3)),
              ))))))  MODPN = ((+0) % (-3)),
DP              };        